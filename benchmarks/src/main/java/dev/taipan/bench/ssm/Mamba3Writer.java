package dev.taipan.bench.ssm;

import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.tensor.DType;
import java.nio.file.Path;

/**
 * Writes a random pure Mamba-3 GGUF (architecture {@code mamba3}, keys and names of
 * docs/mamba3-gguf.md): SISO mixers with one B/C group, rope fraction 0.5, softplus A with floor
 * 1e-4, no output norm, no FFN, untied lm head. in_proj rows are
 * {@code [z, x, B, C, dd_dt, dd_A, trap, angles]}: {@code 2 d_inner + 2 N + 3 H + N / 4}.
 */
final class Mamba3Writer {
    private static final String ARCH = "mamba3";

    private Mamba3Writer() {
    }

    static void write(SsmSyntheticModels.Mamba3 p, DType type, long seed, Path out) {
        GgufWriter w = new GgufWriter();
        RandomWeights rw = new RandomWeights(w, type, seed);
        SsmSyntheticModels.header(w, ARCH, p.name(), rw, p.vocab());
        String a = ARCH + ".";
        w.putUInt32(a + "context_length", 1 << 20);
        w.putUInt32(a + "embedding_length", p.dim());
        w.putUInt32(a + "block_count", p.layers());
        w.putFloat32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
        w.putUInt32(a + "ssm.state_size", p.dState());
        w.putUInt32(a + "ssm.inner_size", p.dInner());
        w.putUInt32(a + "ssm.time_step_rank", p.heads());
        w.putUInt32(a + "ssm.group_count", 1);
        w.putBool(a + "ssm.is_mimo", false);
        w.putUInt32(a + "ssm.mimo_rank", 1);
        w.putFloat32(a + "ssm.rope_fraction", 0.5f);
        w.putString(a + "ssm.a_activation", "softplus");
        w.putFloat32(a + "ssm.a_floor", 1e-4f);
        w.putBool(a + "ssm.out_norm", false);
        w.putUInt32(a + "ssm.chunk_size", 64);

        long dim = p.dim();
        long n = p.dState();
        long h = p.heads();
        int split = p.dState() / 2;
        long angles = (split - split % 2) / 2;
        rw.matrix("token_embd.weight", dim, p.vocab());
        rw.ones("output_norm.weight", dim);
        rw.matrix("output.weight", dim, p.vocab());
        for (int l = 0; l < p.layers(); l++) {
            String b = "blk." + l + ".";
            rw.ones(b + "attn_norm.weight", dim);
            rw.matrix(b + "ssm_in.weight", dim, 2L * p.dInner() + 2 * n + 3 * h + angles);
            // dt_bias = softplus^-1(dt) for dt in [0.001, 0.1]
            rw.uniform(b + "ssm_dt.bias", -6.9f, -2.25f, h);
            rw.uniform(b + "ssm_d", 0.5f, 1.5f, h);
            rw.ones(b + "ssm_b_norm.weight", n);
            rw.ones(b + "ssm_c_norm.weight", n);
            rw.uniform(b + "ssm_b_bias", -0.5f, 0.5f, n, 1, h);
            rw.uniform(b + "ssm_c_bias", -0.5f, 0.5f, n, 1, h);
            rw.matrix(b + "ssm_out.weight", p.dInner(), dim);
        }
        w.write(out);
    }
}
