package dev.taipan.runtime.arch;

/**
 * GGUF metadata keys, spelled exactly as llama.cpp's LLM_KV_NAMES (src/llama-arch.cpp);
 * {@code %s} stands for the architecture name.
 */
public enum MetaKey {
    GENERAL_ARCHITECTURE("general.architecture"),
    GENERAL_NAME("general.name"),
    CONTEXT_LENGTH("%s.context_length"),
    EMBEDDING_LENGTH("%s.embedding_length"),
    BLOCK_COUNT("%s.block_count"),
    FEED_FORWARD_LENGTH("%s.feed_forward_length"),
    EXPERT_FEED_FORWARD_LENGTH("%s.expert_feed_forward_length"),
    EXPERT_SHARED_FEED_FORWARD_LENGTH("%s.expert_shared_feed_forward_length"),
    EXPERT_COUNT("%s.expert_count"),
    EXPERT_USED_COUNT("%s.expert_used_count"),
    EXPERT_SHARED_COUNT("%s.expert_shared_count"),
    EXPERT_WEIGHTS_SCALE("%s.expert_weights_scale"),
    EXPERT_WEIGHTS_NORM("%s.expert_weights_norm"),
    EXPERT_GATING_FUNC("%s.expert_gating_func"),
    EXPERT_GROUP_COUNT("%s.expert_group_count"),
    EXPERT_GROUP_USED_COUNT("%s.expert_group_used_count"),
    VOCAB_SIZE("%s.vocab_size"),
    EMBEDDING_SCALE("%s.embedding_scale"),
    RESIDUAL_SCALE("%s.residual_scale"),
    LOGIT_SCALE("%s.logit_scale"),
    ATTENTION_HEAD_COUNT("%s.attention.head_count"),
    ATTENTION_HEAD_COUNT_KV("%s.attention.head_count_kv"),
    ATTENTION_KEY_LENGTH("%s.attention.key_length"),
    ATTENTION_VALUE_LENGTH("%s.attention.value_length"),
    ATTENTION_LAYERNORM_EPS("%s.attention.layer_norm_epsilon"),
    ATTENTION_LAYERNORM_RMS_EPS("%s.attention.layer_norm_rms_epsilon"),
    ATTENTION_SCALE("%s.attention.scale"),
    ATTENTION_SLIDING_WINDOW("%s.attention.sliding_window"),
    ROPE_DIMENSION_COUNT("%s.rope.dimension_count"),
    ROPE_FREQ_BASE("%s.rope.freq_base"),
    ROPE_SCALING_TYPE("%s.rope.scaling.type"),
    ROPE_SCALING_FACTOR("%s.rope.scaling.factor"),
    ROPE_SCALE_LINEAR("%s.rope.scale_linear"),
    ROPE_SCALING_FINETUNED("%s.rope.scaling.finetuned"),
    SSM_CONV_KERNEL("%s.ssm.conv_kernel"),
    SSM_INNER_SIZE("%s.ssm.inner_size"),
    SSM_STATE_SIZE("%s.ssm.state_size"),
    SSM_TIME_STEP_RANK("%s.ssm.time_step_rank"),
    SSM_GROUP_COUNT("%s.ssm.group_count"),
    SSM_DT_B_C_RMS("%s.ssm.dt_b_c_rms");

    private final String pattern;

    MetaKey(String pattern) {
        this.pattern = pattern;
    }

    /** The key for architecture {@code arch}. */
    public String key(String arch) {
        return pattern.contains("%s") ? String.format(pattern, arch) : pattern;
    }
}
