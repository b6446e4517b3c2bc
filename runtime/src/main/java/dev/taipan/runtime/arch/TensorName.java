package dev.taipan.runtime.arch;

/**
 * GGUF tensor names, spelled exactly as llama.cpp's LLM_TENSOR_NAMES (src/llama-arch.cpp), without
 * the {@code .weight} / {@code .bias} suffix; {@code %d} stands for the layer index.
 */
public enum TensorName {
    TOKEN_EMBD("token_embd"),
    OUTPUT_NORM("output_norm"),
    OUTPUT("output"),
    ROPE_FREQS("rope_freqs"),
    ATTN_NORM("blk.%d.attn_norm"),
    ATTN_Q("blk.%d.attn_q"),
    ATTN_K("blk.%d.attn_k"),
    ATTN_V("blk.%d.attn_v"),
    ATTN_QKV("blk.%d.attn_qkv"),
    ATTN_OUT("blk.%d.attn_output"),
    ATTN_Q_NORM("blk.%d.attn_q_norm"),
    ATTN_K_NORM("blk.%d.attn_k_norm"),
    FFN_NORM("blk.%d.ffn_norm"),
    FFN_GATE("blk.%d.ffn_gate"),
    FFN_UP("blk.%d.ffn_up"),
    FFN_DOWN("blk.%d.ffn_down"),
    FFN_GATE_INP("blk.%d.ffn_gate_inp"),
    FFN_GATE_EXPS("blk.%d.ffn_gate_exps"),
    FFN_UP_EXPS("blk.%d.ffn_up_exps"),
    FFN_DOWN_EXPS("blk.%d.ffn_down_exps"),
    FFN_EXP_PROBS_B("blk.%d.exp_probs_b"),
    FFN_GATE_INP_SHEXP("blk.%d.ffn_gate_inp_shexp"),
    FFN_GATE_SHEXP("blk.%d.ffn_gate_shexp"),
    FFN_UP_SHEXP("blk.%d.ffn_up_shexp"),
    FFN_DOWN_SHEXP("blk.%d.ffn_down_shexp"),
    SSM_IN("blk.%d.ssm_in"),
    SSM_CONV1D("blk.%d.ssm_conv1d"),
    SSM_X("blk.%d.ssm_x"),
    SSM_DT("blk.%d.ssm_dt"),
    SSM_A("blk.%d.ssm_a"),
    SSM_D("blk.%d.ssm_d"),
    SSM_NORM("blk.%d.ssm_norm"),
    SSM_OUT("blk.%d.ssm_out"),
    SSM_DT_NORM("blk.%d.ssm_dt_norm"),
    SSM_B_NORM("blk.%d.ssm_b_norm"),
    SSM_C_NORM("blk.%d.ssm_c_norm");

    private final String pattern;

    TensorName(String pattern) {
        this.pattern = pattern;
    }

    /** {@code <name>.weight} for a model-wide tensor. */
    public String weight() {
        return pattern + ".weight";
    }

    /** {@code <name>.weight} of layer {@code layer}. */
    public String weight(int layer) {
        return String.format(pattern, layer) + ".weight";
    }

    /** {@code <name>.bias} of layer {@code layer}. */
    public String bias(int layer) {
        return String.format(pattern, layer) + ".bias";
    }

    /** The bare name of layer {@code layer} (tensors without a suffix, e.g. ssm_a, exp_probs_b). */
    public String plain(int layer) {
        return String.format(pattern, layer);
    }
}
