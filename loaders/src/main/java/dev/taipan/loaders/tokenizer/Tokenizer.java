package dev.taipan.loaders.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Text to token ids and back, for a vocabulary read from GGUF ({@link Tokenizers#fromMetadata}).
 * Encoding equals llama.cpp's {@code llama_tokenize} (llama-vocab.cpp {@code llama_vocab::impl::tokenize}):
 * special-token texts are cut out first ({@code tokenizer_st_partition}: control and unknown
 * tokens only when {@link EncodeOptions#parseSpecial()}, user-defined tokens always, longest text
 * first), then each text fragment goes to the SentencePiece or byte-level BPE encoder; BOS and EOS
 * are added per {@code tokenizer.ggml.add_bos_token} / {@code add_eos_token} and llama.cpp's
 * defaults (SentencePiece adds BOS when the key is absent). For SentencePiece a space is put before
 * the first fragment and before every fragment that follows a special token
 * ({@code add_space_prefix}), and spaces become U+2581.
 *
 * <p>Decoding concatenates the tokens' pieces ({@link #piece}, llama.cpp {@code token_to_piece})
 * and reads the bytes as UTF-8. Unlike {@link #piece}, {@link #decode} and the
 * {@link StreamingDecoder} leave out control and unknown tokens (llama.cpp with
 * {@code special = false}), and, where the ids start with BOS and the vocabulary adds a space prefix,
 * drop the one space the encoder put before the text, so that {@code decode(encode(s)) == s}. They do
 * not apply llama.cpp's {@code clean_spaces} rewriting (" ," to ","), which would break that. The
 * decode of generated ids (no BOS) is exactly the concatenation of their pieces, as llama.cpp's
 * examples print them.
 *
 * <p>Immutable and safe to share between threads; a {@link StreamingDecoder} is not.
 */
public final class Tokenizer {

    /** The encoding algorithm, from {@code tokenizer.ggml.model}. */
    public enum Kind {
        /** {@code llama}: SentencePiece BPE with scores and byte fallback. */
        SENTENCE_PIECE,
        /** {@code gpt2}: byte-level BPE with merge ranks and a regex pre-tokenizer. */
        BYTE_LEVEL_BPE
    }

    private static final int HIDDEN = Vocabulary.ATTR_CONTROL | Vocabulary.ATTR_UNKNOWN;

    private final Vocabulary vocab;
    private final SpmEncoder spm;
    private final BpeEncoder bpe;

    Tokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.spm = vocab.kind == Kind.SENTENCE_PIECE ? new SpmEncoder(vocab) : null;
        this.bpe = vocab.kind == Kind.BYTE_LEVEL_BPE ? new BpeEncoder(vocab) : null;
    }

    /** A fragment of the input: plain text, or a special token cut out of it. */
    private record Fragment(String text, int token) {
        static Fragment ofText(String text) {
            return new Fragment(text, Vocabulary.NONE);
        }

        static Fragment ofToken(int token) {
            return new Fragment(null, token);
        }

        boolean isText() {
            return text != null;
        }
    }

    /** Encodes with {@link EncodeOptions#DEFAULT}: BOS/EOS per metadata, special-token texts parsed. */
    public int[] encode(String text) {
        return encode(text, EncodeOptions.DEFAULT);
    }

    /** Encodes {@code text} as llama.cpp's {@code llama_tokenize(text, addSpecial, parseSpecial)}. */
    public int[] encode(String text, EncodeOptions options) {
        IntList out = new IntList();
        boolean addSpecial = options.addSpecial();
        if (addSpecial && vocab.addBos) {
            out.add(vocab.bos);
        }
        boolean previousSpecial = true;
        for (Fragment fragment : partition(text, options.parseSpecial())) {
            if (!fragment.isText()) {
                out.add(fragment.token());
                previousSpecial = true;
                continue;
            }
            if (spm != null) {
                String prefixed = vocab.addSpacePrefix && previousSpecial ? " " + fragment.text() : fragment.text();
                spm.encode(prefixed.replace(' ', '\u2581'), out);
            } else {
                bpe.encode(fragment.text(), out);
            }
            previousSpecial = false;
        }
        if (addSpecial && vocab.addEos) {
            out.add(vocab.eos);
        }
        return out.toArray();
    }

    /** llama.cpp {@code tokenizer_st_partition}: cuts special-token texts out of {@code text}, longest first. */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(Fragment.ofText(text));
        for (int id : vocab.specialTokens) {
            if (!parseSpecial && vocab.hasAttr(id, HIDDEN)) {
                continue;
            }
            String special = vocab.texts[id];
            List<Fragment> next = new ArrayList<>(fragments.size() + 2);
            for (Fragment fragment : fragments) {
                if (!fragment.isText() || !fragment.text().contains(special)) {
                    next.add(fragment);
                    continue;
                }
                String raw = fragment.text();
                int from = 0;
                for (int at = raw.indexOf(special); at >= 0; at = raw.indexOf(special, from)) {
                    if (at > from) {
                        next.add(Fragment.ofText(raw.substring(from, at)));
                    }
                    next.add(Fragment.ofToken(id));
                    from = at + special.length();
                }
                if (from < raw.length()) {
                    next.add(Fragment.ofText(raw.substring(from)));
                }
            }
            fragments = next;
        }
        return fragments;
    }

    /**
     * The text of {@code ids}: their pieces concatenated and read as UTF-8 (malformed bytes become
     * U+FFFD), control and unknown tokens left out, the encoder's space prefix dropped after a leading
     * BOS (see the class comment).
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int i = 0; i < ids.length; i++) {
            byte[] piece = visiblePiece(ids[i]);
            int skip = prefixSpaceToDrop(i, ids.length > 0 ? ids[0] : Vocabulary.NONE, piece);
            bytes.write(piece, skip, piece.length - skip);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The piece of {@code id} as decode renders it: empty for control and unknown tokens. */
    byte[] visiblePiece(int id) {
        checkId(id);
        return vocab.hasAttr(id, HIDDEN) ? new byte[0] : vocab.pieces[id];
    }

    /** 1 where the piece at {@code index} starts with the space the encoder added after a leading BOS, else 0. */
    int prefixSpaceToDrop(int index, int firstId, byte[] piece) {
        boolean afterBos = index == 1 && firstId == vocab.bos && vocab.bos != Vocabulary.NONE;
        return afterBos && vocab.addSpacePrefix && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
    }

    /**
     * The text of one token as llama.cpp's {@code common_token_to_piece} renders it: SentencePiece
     * U+2581 as a space, byte tokens as their byte, byte-level BPE characters back to their bytes,
     * control and user-defined tokens as their text. A piece that is not whole UTF-8 (one byte of
     * a multi-byte character) shows U+FFFD; use {@link #pieceBytes} or a {@link StreamingDecoder}.
     */
    public String piece(int id) {
        checkId(id);
        return new String(vocab.pieces[id], StandardCharsets.UTF_8);
    }

    /** The bytes of {@link #piece}. */
    public byte[] pieceBytes(int id) {
        checkId(id);
        return vocab.pieces[id].clone();
    }

    /** A decoder that turns ids into text one at a time, never splitting a UTF-8 character. */
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    /** The BOS token id, or -1 when the vocabulary has none. */
    public int bos() {
        return vocab.bos;
    }

    /** The EOS token id, or -1 when the vocabulary has none. */
    public int eos() {
        return vocab.eos;
    }

    /** The unknown-token id, or -1. */
    public int unk() {
        return vocab.unk;
    }

    /** The padding-token id, or -1. */
    public int pad() {
        return vocab.pad;
    }

    /** Whether {@link #encode(String)} starts with BOS. */
    public boolean addsBos() {
        return vocab.addBos;
    }

    /** Whether {@link #encode(String)} ends with EOS. */
    public boolean addsEos() {
        return vocab.addEos;
    }

    public int vocabSize() {
        return vocab.size();
    }

    public Kind kind() {
        return vocab.kind;
    }

    /** The byte-level BPE pre-tokenizer, empty for SentencePiece. */
    public Optional<PreTokenizer> preTokenizer() {
        return Optional.ofNullable(vocab.preTokenizer);
    }

    /** Whether generation should stop at {@code id}: EOS, EOT, EOM and llama.cpp's end-of-turn tokens. */
    public boolean isEog(int id) {
        checkId(id);
        return vocab.eog.get(id);
    }

    /** The vocabulary entry of {@code id} as stored (e.g. "▁the", "Ġthe", "<0x0A>"). */
    public String tokenText(int id) {
        checkId(id);
        return vocab.texts[id];
    }

    /** The GGUF token type of {@code id}. */
    public TokenType tokenType(int id) {
        checkId(id);
        return vocab.types[id];
    }

    /** The SentencePiece score of {@code id} (0 where the file has none). */
    public float score(int id) {
        checkId(id);
        return vocab.scores[id];
    }

    /** The id of a vocabulary entry given its stored text. */
    public OptionalInt tokenId(String tokenText) {
        int id = vocab.id(tokenText);
        return id == Vocabulary.NONE ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** {@code tokenizer.chat_template}, when the file has one. */
    public Optional<String> chatTemplate() {
        return vocab.chatTemplate;
    }

    void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new IllegalArgumentException("token id " + id + " is out of range: vocabulary size is "
                    + vocab.size() + " (" + vocab.origin + ")");
        }
    }

    @Override
    public String toString() {
        return "Tokenizer[" + vocab.kind + ", " + vocab.size() + " tokens"
                + (vocab.preTokenizer != null ? ", pre " + vocab.preTokenizer : "") + ", " + vocab.origin + "]";
    }
}
