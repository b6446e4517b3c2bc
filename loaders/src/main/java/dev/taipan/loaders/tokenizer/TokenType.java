package dev.taipan.loaders.tokenizer;

/**
 * The type of a vocabulary entry as stored in GGUF {@code tokenizer.ggml.token_type} (llama.cpp's
 * {@code llama_token_type}: 0 undefined, 1 normal, 2 unknown, 3 control, 4 user-defined,
 * 5 unused, 6 byte). Values outside that range read as {@link #UNDEFINED}, as in llama.cpp.
 */
public enum TokenType {
    UNDEFINED,
    NORMAL,
    UNKNOWN,
    CONTROL,
    USER_DEFINED,
    UNUSED,
    BYTE;

    private static final TokenType[] BY_CODE = values();

    /** The type stored as {@code code} in GGUF. */
    public static TokenType fromGguf(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNDEFINED;
    }
}
