package dev.taipan.loaders.tokenizer;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A vocabulary read from GGUF metadata the way llama.cpp's {@code llama_vocab::impl::load}
 * (llama-vocab.cpp) reads it: token texts, scores and types, merge ranks, special-token ids with
 * llama.cpp's per-model defaults, the add-BOS/EOS flags, the end-of-generation set (ids from
 * metadata plus llama.cpp's list of end-of-turn token texts), the special-token list used to cut
 * the input before tokenizing, and each token's rendered bytes (its piece).
 *
 * <p>Where llama.cpp only logs (a special-token id out of range, a byte missing from an SPM vocab),
 * we keep its fallback silently: the default id, or the unknown token.
 */
final class Vocabulary {
    /** No such token (llama.cpp's {@code LLAMA_TOKEN_NULL}). */
    static final int NONE = -1;

    // token attributes, llama.cpp's llama_token_attr bits
    static final int ATTR_UNKNOWN = 1 << 1;
    static final int ATTR_UNUSED = 1 << 2;
    static final int ATTR_NORMAL = 1 << 3;
    static final int ATTR_CONTROL = 1 << 4;
    static final int ATTR_USER_DEFINED = 1 << 5;
    static final int ATTR_BYTE = 1 << 6;

    /** Token texts llama.cpp treats as end of generation (llama-vocab.cpp, "special_eog_ids"). */
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
            "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
            "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[");
    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
            "<end_of_utterance>");
    private static final List<String> FIM_PAD_TEXTS = List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]");
    private static final List<String> FIM_REP_TEXTS = List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
            "<reponame>");
    private static final List<String> FIM_SEP_TEXTS = List.of("<|file_sep|>");

    final String origin;
    final Tokenizer.Kind kind;
    final PreTokenizer preTokenizer;          // null for SPM
    final String[] texts;                     // (nVocab)
    final float[] scores;                     // (nVocab)
    final TokenType[] types;                  // (nVocab) as stored in GGUF
    final int[] attrs;                        // (nVocab) ATTR_* bits, after llama.cpp's overrides
    final Map<String, Integer> ids;           // text -> id
    final Map<String, Integer> mergeRanks;    // "left right" -> rank (BPE)
    final int[] byteTokens;                   // (256) SPM byte-fallback token of each byte, or NONE
    final int bos;
    final int eos;
    final int unk;
    final int pad;
    final boolean addBos;
    final boolean addEos;
    final boolean addSpacePrefix;
    final BitSet eog;
    final int[] specialTokens;                // control, user-defined and unknown ids, longest text first
    final byte[][] pieces;                    // (nVocab) rendered bytes, control tokens as their text
    final Optional<String> chatTemplate;

    private Vocabulary(Metadata md) {
        origin = md.origin();
        kind = kindOf(md);
        String preName = md.has(MetaKeys.PRE) ? md.getString(MetaKeys.PRE) : null;
        preTokenizer = kind == Tokenizer.Kind.BYTE_LEVEL_BPE ? PreTokenizer.fromGguf(preName, origin) : null;

        List<String> tokenList = md.getStringArray(MetaKeys.TOKENS);
        int n = tokenList.size();
        if (n == 0) {
            throw new ModelFormatException(origin + ": metadata key '" + MetaKeys.TOKENS + "' is empty");
        }
        texts = new String[n];
        ids = HashMap.newHashMap(n);
        for (int i = 0; i < n; i++) {
            String text = tokenList.get(i);
            if (text.isEmpty()) {
                text = "[EMPTY_" + i + "]";
            }
            Integer previous = ids.putIfAbsent(text, i);
            if (previous != null) {
                throw new ModelFormatException(origin + ": duplicate token in '" + MetaKeys.TOKENS + "': '" + text
                        + "' has ids " + previous + " and " + i);
            }
            texts[i] = text;
        }
        scores = md.has(MetaKeys.SCORES) ? atLeast(md.getFloatArray(MetaKeys.SCORES), n, MetaKeys.SCORES) : new float[n];
        types = new TokenType[n];
        attrs = new int[n];
        int[] typeCodes = md.has(MetaKeys.TOKEN_TYPE) ? atLeast(md.getIntArray(MetaKeys.TOKEN_TYPE), n) : null;
        for (int i = 0; i < n; i++) {
            types[i] = typeCodes == null ? TokenType.NORMAL : TokenType.fromGguf(typeCodes[i]);
            attrs[i] = attrOf(types[i]);
        }
        mergeRanks = kind == Tokenizer.Kind.BYTE_LEVEL_BPE ? readMerges(md) : Map.of();

        // special ids: llama.cpp's per-model defaults, then the metadata keys where in range
        int bosId = kind == Tokenizer.Kind.SENTENCE_PIECE ? 1 : 11;
        int eosId = kind == Tokenizer.Kind.SENTENCE_PIECE ? 2 : 11;
        int unkId = kind == Tokenizer.Kind.SENTENCE_PIECE ? 0 : NONE;
        if (preTokenizer != null && preTokenizer.clearsBosToken()) {
            bosId = NONE;
        }
        bos = specialId(md, MetaKeys.BOS_ID, bosId);
        eos = specialId(md, MetaKeys.EOS_ID, eosId);
        unk = specialId(md, MetaKeys.UNK_ID, unkId);
        pad = specialId(md, MetaKeys.PAD_ID, NONE);

        boolean bosDefault = kind == Tokenizer.Kind.SENTENCE_PIECE || (preTokenizer != null && preTokenizer.addBosByDefault());
        addBos = md.getBool(MetaKeys.ADD_BOS, bosDefault);
        addEos = md.getBool(MetaKeys.ADD_EOS, false);
        // only llama.cpp's SentencePiece path adds the space; byte-level BPE ignores the key
        addSpacePrefix = kind == Tokenizer.Kind.SENTENCE_PIECE && md.getBool(MetaKeys.ADD_SPACE_PREFIX, true);
        if (addBos && bos == NONE) {
            throw new ModelFormatException(origin + ": " + MetaKeys.ADD_BOS + " is true, but " + MetaKeys.BOS_ID
                    + " is not set");
        }
        if (addEos && eos == NONE) {
            throw new ModelFormatException(origin + ": " + MetaKeys.ADD_EOS + " is true, but " + MetaKeys.EOS_ID
                    + " is not set");
        }

        eog = endOfGeneration(md);
        specialTokens = specialTokenList();
        byteTokens = kind == Tokenizer.Kind.SENTENCE_PIECE ? spmByteTokens() : null;
        pieces = new byte[n][];
        for (int i = 0; i < n; i++) {
            pieces[i] = render(i);
        }
        chatTemplate = md.has(MetaKeys.CHAT_TEMPLATE) ? Optional.of(md.getString(MetaKeys.CHAT_TEMPLATE))
                : Optional.empty();
    }

    /** Reads the vocabulary from GGUF tokenizer metadata. @throws ModelFormatException naming the key at fault */
    static Vocabulary read(Metadata md) {
        return new Vocabulary(md);
    }

    int size() {
        return texts.length;
    }

    /** The id of a token text, or {@link #NONE}. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? NONE : id;
    }

    boolean hasAttr(int id, int attr) {
        return (attrs[id] & attr) != 0;
    }

    /** Rank of merging {@code left} and {@code right}, or -1 (llama.cpp {@code find_bpe_rank}). */
    int mergeRank(String left, String right) {
        Integer rank = mergeRanks.get(left + ' ' + right);
        return rank == null ? -1 : rank;
    }

    private Tokenizer.Kind kindOf(Metadata md) {
        String name = md.getString(MetaKeys.MODEL);
        return switch (name) {
            case "llama" -> Tokenizer.Kind.SENTENCE_PIECE;
            case "gpt2" -> Tokenizer.Kind.BYTE_LEVEL_BPE;
            default -> throw new ModelFormatException(origin + ": unsupported tokenizer model '" + name
                    + "' (metadata key '" + MetaKeys.MODEL + "'); supported: llama (SentencePiece), gpt2 (byte-level BPE)");
        };
    }

    private float[] atLeast(float[] values, int n, String key) {
        if (values.length < n) {
            throw new ModelFormatException(origin + ": metadata key '" + key + "' has " + values.length
                    + " values, fewer than the " + n + " tokens");
        }
        return values;
    }

    private int[] atLeast(int[] values, int n) {
        if (values.length < n) {
            throw new ModelFormatException(origin + ": metadata key '" + MetaKeys.TOKEN_TYPE + "' has " + values.length
                    + " values, fewer than the " + n + " tokens");
        }
        return values;
    }

    private static int attrOf(TokenType type) {
        return switch (type) {
            case UNDEFINED -> 0;
            case NORMAL -> ATTR_NORMAL;
            case UNKNOWN -> ATTR_UNKNOWN;
            case CONTROL -> ATTR_CONTROL;
            case USER_DEFINED -> ATTR_USER_DEFINED;
            case UNUSED -> ATTR_UNUSED;
            case BYTE -> ATTR_BYTE;
        };
    }

    /** Merges "a b" split at the first space after the first character, rank = position (llama.cpp). */
    private Map<String, Integer> readMerges(Metadata md) {
        if (!md.has(MetaKeys.MERGES)) {
            throw new ModelFormatException(origin + ": missing metadata key '" + MetaKeys.MERGES
                    + "' (required for tokenizer model gpt2)");
        }
        List<String> merges = md.getStringArray(MetaKeys.MERGES);
        Map<String, Integer> ranks = HashMap.newHashMap(merges.size());
        for (int i = 0; i < merges.size(); i++) {
            String merge = merges.get(i);
            int space = merge.indexOf(' ', 1);
            if (space > 0) {
                ranks.putIfAbsent(merge, i);
            }
        }
        return ranks;
    }

    private int specialId(Metadata md, String key, int fallback) {
        int id = fallback >= 0 && fallback < texts.length ? fallback : NONE;
        if (md.has(key)) {
            long v = md.getLong(key);
            if (v >= 0 && v < texts.length) {
                id = (int) v;
            }
        }
        return id;
    }

    private int optionalId(Metadata md, String key, List<String> texts) {
        int id = specialId(md, key, NONE);
        if (id == NONE) {
            id = firstWithText(texts);
            if (id != NONE) {
                attrs[id] |= ATTR_CONTROL;
            }
        }
        return id;
    }

    private int firstWithText(List<String> candidates) {
        int best = NONE;
        for (String text : candidates) {
            int id = id(text);
            if (id != NONE && (best == NONE || id < best)) {
                best = id;
            }
        }
        return best;
    }

    /** llama.cpp's special_eog_ids: FIM pad/repo/sep, the known end-of-turn texts, EOS, EOT and EOM. */
    private BitSet endOfGeneration(Metadata md) {
        int eot = optionalId(md, MetaKeys.EOT_ID, EOT_TEXTS);
        int eom = optionalId(md, MetaKeys.EOM_ID, List.of("<|eom_id|>"));
        BitSet set = new BitSet(texts.length);
        for (int id : new int[] {optionalId(md, MetaKeys.FIM_PAD_ID, FIM_PAD_TEXTS),
                optionalId(md, MetaKeys.FIM_REP_ID, FIM_REP_TEXTS), optionalId(md, MetaKeys.FIM_SEP_ID, FIM_SEP_TEXTS)}) {
            if (id != NONE) {
                set.set(id);
            }
        }
        for (String text : EOG_TEXTS) {
            int id = id(text);
            if (id != NONE) {
                set.set(id);
                attrs[id] |= ATTR_CONTROL;
            }
        }
        for (int id : new int[] {eos, eot, eom}) {
            if (id != NONE) {
                set.set(id);
            }
        }
        // gpt-oss / solar-open: "<|end|>" ends a message, not the generation, when "<|return|>" and "<|call|>" exist
        int end = id("<|end|>");
        boolean hasCall = inSet(set, "<|call|>") || inSet(set, "<|calls|>");
        if (end != NONE && set.get(end) && hasCall && (inSet(set, "<|return|>") || inSet(set, "<|flush|>"))) {
            set.clear(end);
            attrs[end] = ATTR_USER_DEFINED;
        }
        // gemma4 / paddleocr: "</s>" is not an end of generation where "<|tool_response>" exists
        int closeS = id("</s>");
        if (closeS != NONE && set.get(closeS) && inSet(set, "<|tool_response>")) {
            set.clear(closeS);
            attrs[closeS] = ATTR_NORMAL;
        }
        return set;
    }

    private boolean inSet(BitSet set, String text) {
        int id = id(text);
        return id != NONE && set.get(id);
    }

    private int[] specialTokenList() {
        List<Integer> list = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            if (hasAttr(i, ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) {
                list.add(i);
            }
        }
        list.sort(Comparator.comparingInt((Integer i) -> -texts[i].length()).thenComparingInt(i -> i));
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    /** llama.cpp {@code byte_to_token} for SPM: {@code <0xNN>}, else the byte as a one-character token. */
    private int[] spmByteTokens() {
        int[] table = new int[256];
        HexFormat hex = HexFormat.of().withUpperCase();
        for (int b = 0; b < 256; b++) {
            int id = id("<0x" + hex.toHexDigits((byte) b) + ">");
            if (id == NONE && b < 0x80) {
                id = id(String.valueOf((char) b));
            }
            table[b] = id;
        }
        return table;
    }

    /** llama.cpp {@code token_to_piece} with {@code special = true}, no lstrip. */
    private byte[] render(int id) {
        String text = texts[id];
        if (hasAttr(id, ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED)) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if (hasAttr(id, ATTR_NORMAL)) {
            return kind == Tokenizer.Kind.SENTENCE_PIECE ? text.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8) : byteDecode(text);
        }
        if (hasAttr(id, ATTR_BYTE)) {
            return new byte[] {(byte) parseByteToken(id)};
        }
        return new byte[0];
    }

    /** The byte of a {@code <0xNN>} token (llama.cpp {@code token_to_byte}: two hex digits at offset 3). */
    private int parseByteToken(int id) {
        String text = texts[id];
        if (text.length() >= 5 && HexFormat.isHexDigit(text.charAt(3)) && HexFormat.isHexDigit(text.charAt(4))) {
            return HexFormat.fromHexDigits(text, 3, 5);
        }
        throw new ModelFormatException(origin + ": byte token " + id + " '" + text + "' is not of the form <0xNN>");
    }

    /** Byte-level BPE token text back to bytes (llama.cpp {@code llama_decode_text}). */
    private static byte[] byteDecode(String text) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            int b = ByteUnicode.decode(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                byte[] utf8 = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                out.writeBytes(("[UNK_BYTE_0x" + HexFormat.of().formatHex(utf8) + text + "]")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
