package dev.taipan.loaders.tokenizer;

/**
 * How {@link Tokenizer#encode(String, EncodeOptions)} treats special tokens, with llama.cpp's
 * meaning of {@code llama_tokenize(..., add_special, parse_special)}.
 *
 * @param addSpecial   add BOS (and EOS) where the vocabulary's {@code add_bos_token} /
 *                     {@code add_eos_token} say so
 * @param parseSpecial match the text of control tokens (e.g. {@code <|im_start|>}) in the input and
 *                     emit their ids; when false they are tokenized as plain text. User-defined
 *                     tokens are matched either way, as in llama.cpp.
 */
public record EncodeOptions(boolean addSpecial, boolean parseSpecial) {

    /** llama-tokenize's defaults: BOS/EOS per metadata, special tokens parsed. */
    public static final EncodeOptions DEFAULT = new EncodeOptions(true, true);

    /** llama-tokenize {@code --no-bos}: no BOS/EOS added, special tokens parsed. */
    public static final EncodeOptions NO_BOS = new EncodeOptions(false, true);

    /** Plain text: no BOS/EOS added, control-token text is tokenized as ordinary text. */
    public static final EncodeOptions PLAIN_TEXT = new EncodeOptions(false, false);

    public EncodeOptions withAddSpecial(boolean value) {
        return new EncodeOptions(value, parseSpecial);
    }

    public EncodeOptions withParseSpecial(boolean value) {
        return new EncodeOptions(addSpecial, value);
    }
}
