package dev.taipan.loaders.tokenizer;

import dev.taipan.loaders.Metadata;
import java.nio.file.Path;

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

    /**
     * The tokenizer of a Hugging Face {@code tokenizer.json} (byte-level BPE: GPT-2, Llama 3, Qwen2
     * and similar), converted as llama.cpp's convert_hf_to_gguf.py would and then read like GGUF.
     * {@code tokenizer_config.json}, {@code config.json} and {@code chat_template.jinja} next to it
     * supply BOS/EOS and the chat template when present.
     *
     * @throws dev.taipan.loaders.ModelFormatException naming the file and field when it is missing,
     *         malformed, or not byte-level BPE with a known pre-tokenizer
     */
    public static Tokenizer fromTokenizerJson(Path tokenizerJson) {
        return fromMetadata(TokenizerJson.read(tokenizerJson));
    }

    /**
     * The GGUF {@code tokenizer.*} keys llama.cpp's convert_hf_to_gguf.py would write for
     * {@code tokenizer.json} (and the config files next to it), as {@link #fromTokenizerJson} reads
     * them: strings, booleans, ids as longs, and lists (tokens and merges of strings, token types of
     * longs). A converter writes these into a GGUF file.
     *
     * @throws dev.taipan.loaders.ModelFormatException as {@link #fromTokenizerJson}
     */
    public static Metadata tokenizerJsonMetadata(Path tokenizerJson) {
        return TokenizerJson.read(tokenizerJson);
    }
}
