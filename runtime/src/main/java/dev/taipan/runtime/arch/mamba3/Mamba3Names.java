package dev.taipan.runtime.arch.mamba3;

/**
 * GGUF names of the Mamba-3 parts that llama.cpp has no name for (it has no Mamba-3
 * architecture as of 34af94cd), in its conventions: {@code blk.%d.ssm_*} tensors, plain names for
 * parameters that are not weights of a linear map (as {@code ssm_a}, {@code ssm_d}), and
 * {@code %s.ssm.*} metadata keys. Shared names (token_embd, attn_norm, ssm_in, ssm_out, ssm_d,
 * ssm_norm, ssm_dt, ssm_b_norm, ssm_c_norm, ffn_*, attn_*) come from
 * {@link dev.taipan.runtime.arch.TensorName} and {@link dev.taipan.runtime.arch.MetaKey}.
 * docs/mamba3-gguf.md lists the whole table with the FLA / mamba_ssm names they come from.
 */
final class Mamba3Names {
    private Mamba3Names() {
    }

    /** (H, R, N) B_bias. */
    static String bBias(int layer) {
        return "blk." + layer + ".ssm_b_bias";
    }

    /** (H, R, N) C_bias. */
    static String cBias(int layer) {
        return "blk." + layer + ".ssm_c_bias";
    }

    /** (H, R, P) mimo_x. */
    static String mimoX(int layer) {
        return "blk." + layer + ".ssm_mimo_x";
    }

    /** (H, R, P) mimo_z. */
    static String mimoZ(int layer) {
        return "blk." + layer + ".ssm_mimo_z";
    }

    /** (H, R, P) mimo_o. */
    static String mimoO(int layer) {
        return "blk." + layer + ".ssm_mimo_o";
    }

    /** Metadata keys of Mamba-3 mixers; {@code %s} is the architecture name. */
    enum Key {
        /** bool: MIMO mixer (is_mimo); false = SISO. */
        IS_MIMO("%s.ssm.is_mimo"),
        /** uint32: R (mimo_rank); 1 for SISO. */
        MIMO_RANK("%s.ssm.mimo_rank"),
        /** float32: share of the state rotated, 0.5 or 1.0 (rope_fraction). */
        ROPE_FRACTION("%s.ssm.rope_fraction"),
        /** string: {@code softplus} or {@code heavy_tail}, the f of A = -max(f(dd_A), A_floor). */
        A_ACTIVATION("%s.ssm.a_activation"),
        /** float32: A_floor. */
        A_FLOOR("%s.ssm.a_floor"),
        /** bool: per-head RMS norm of y before the gate (is_outproj_norm). */
        OUT_NORM("%s.ssm.out_norm"),
        /** uint32: prefill chunk length (chunk_size). */
        CHUNK_SIZE("%s.ssm.chunk_size");

        private final String pattern;

        Key(String pattern) {
            this.pattern = pattern;
        }

        String key(String arch) {
            return String.format(pattern, arch);
        }
    }
}
