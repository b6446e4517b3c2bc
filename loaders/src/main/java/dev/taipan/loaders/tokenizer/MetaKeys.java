package dev.taipan.loaders.tokenizer;

/** GGUF metadata keys of the tokenizer, spelled as llama.cpp's {@code LLM_KV_TOKENIZER_*} (llama-arch.cpp). */
final class MetaKeys {
    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    static final String EOT_ID = "tokenizer.ggml.eot_token_id";
    static final String EOM_ID = "tokenizer.ggml.eom_token_id";
    static final String UNK_ID = "tokenizer.ggml.unknown_token_id";
    static final String PAD_ID = "tokenizer.ggml.padding_token_id";
    static final String FIM_PAD_ID = "tokenizer.ggml.fim_pad_token_id";
    static final String FIM_REP_ID = "tokenizer.ggml.fim_rep_token_id";
    static final String FIM_SEP_ID = "tokenizer.ggml.fim_sep_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    static final String CHAT_TEMPLATE = "tokenizer.chat_template";

    private MetaKeys() {
    }
}
