package dev.taipan.loaders.tokenizer;

import dev.taipan.loaders.Metadata;

/** Creates {@link Tokenizer}s from model metadata. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * The tokenizer described by GGUF {@code tokenizer.*} metadata, read as llama.cpp reads it
     * ({@code tokenizer.ggml.model} "llama" or "gpt2").
     *
     * @throws dev.taipan.loaders.ModelFormatException naming the key when the metadata is missing,
     *         malformed, or of an unsupported tokenizer model or pre-tokenizer
     */
    public static Tokenizer fromMetadata(Metadata metadata) {
        return new Tokenizer(Vocabulary.read(metadata));
    }
}
