package dev.taipan.loaders.tokenizer;

import dev.taipan.loaders.ModelFormatException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE pre-tokenizers, chosen by GGUF {@code tokenizer.ggml.pre}. The names, regexes and
 * flags follow llama.cpp llama-vocab.cpp ({@code llm_tokenizer_bpe} constructor and the
 * {@code tokenizer_pre} switch in {@code llama_vocab::impl::load}); the split follows
 * unicode.cpp {@code unicode_regex_split}: the regexes run one after another, each inside every
 * piece the previous one produced, and the text between matches is kept as pieces too.
 *
 * <p>Differences: llama.cpp runs hand-written matchers for the GPT-2 and Llama-3 regexes and
 * {@code std::regex} over category-collapsed text for the others; we run the regexes themselves
 * with java.util.regex ({@code \s} is Unicode White_Space, as in llama.cpp). Where llama.cpp
 * adapted a Hugging Face regex, we use its adapted form. deepseek-llm's list of cased-letter ranges
 * is written as {@code \p{LC}}, which is what that list enumerates (Unicode version aside).
 * Left out: "superbpe", whose lookahead regex takes time quadratic in the length of a digit run,
 * and the types llama.cpp splits with custom code (kimi-k2, afmoe, ...).
 */
public enum PreTokenizer {
    DEFAULT(Flags.NONE, List.of("default"),
            "[\\p{P}\\$\\+<=>\\^~\\|]+", Regexes.GPT2, "\\p{N}+", "[0-9][0-9][0-9]"),
    LLAMA3(Flags.IGNORE_MERGES_ADD_BOS,
            List.of("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"),
            Regexes.LLAMA3),
    DBRX(Flags.NONE, List.of("dbrx", "smaug-bpe"), Regexes.LLAMA3),
    DEEPSEEK_LLM(Flags.NONE, List.of("deepseek-llm"),
            "[\r\n]",
            "\\s?[A-Za-z\\p{LC}]+",
            "\\s?[!-/:-~\\uFF01-\\uFF0F\\uFF1A-\\uFF5E\\u2018-\\u201F\\u3000-\\u3002]+",
            "\\s+$",
            Regexes.CJK_HANGUL,
            "\\p{N}+"),
    DEEPSEEK_CODER(Flags.NONE, List.of("deepseek-coder"),
            "[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", Regexes.CJK_HANGUL, "\\p{N}"),
    DEEPSEEK3_LLM(Flags.NONE, List.of("deepseek-v3", "hunyuan-dense"),
            "\\p{N}{1,3}",
            "[\\u4E00-\\u9FA5\\u3040-\\u309F\\u30A0-\\u30FF]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
                    + "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"),
    FALCON(Flags.NONE, List.of("falcon"),
            "[\\p{P}\\$\\+<=>\\^~\\|`]+", Regexes.GPT2, "[0-9][0-9][0-9]"),
    STARCODER(Flags.NONE,
            List.of("starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"),
            "\\p{N}", Regexes.GPT2),
    GPT2(Flags.NONE,
            List.of("gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
                    "mellum", "jina-v1-en", "jina-v2-code", "roberta-bpe", "exaone4", "mpt", "olmo", "jais",
                    "trillion", "granite-docling"),
            Regexes.GPT2),
    QWEN2(Flags.NONE, List.of("qwen2", "deepseek-r1-qwen", "megrez", "stablelm2", "hunyuan", "grok-2"),
            Regexes.CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    QWEN35(Flags.NONE, List.of("qwen35"),
            Regexes.CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    PORO(Flags.NONE, List.of("poro-chat", "bloom", "gpt3-finnish"), Regexes.PORO),
    CHATGLM4(Flags.NO_BOS_TOKEN, List.of("glm4", "chatglm-bpe"), Regexes.LLAMA3),
    VIKING(Flags.NONE, List.of("viking"), Regexes.PORO, "\\p{N}"),
    TEKKEN(Flags.IGNORE_MERGES_ADD_BOS, List.of("tekken"),
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
                    + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*"
                    + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    CHAMELEON(Flags.ADD_BOS, List.of("chameleon"),
            "<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
            "[\\p{P}!-/:-@\\[-`{-~]", Regexes.GPT2),
    GPT4O(Flags.NONE, List.of("gpt-4o", "llama4", "minimax-m2"),
            "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:" + Regexes.CONTRACTIONS + ")?"
                    + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:"
                    + Regexes.CONTRACTIONS + ")?"
                    + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    SEED_CODER(Flags.NONE, List.of("seed-coder"),
            Regexes.CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    BAILINGMOE(Flags.NONE, List.of("bailingmoe", "bailingmoe2", "llada-moe"),
            "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                    + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+");

    /** Regex fragments shared by several pre-tokenizers. */
    private static final class Regexes {
        static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
        static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
        static final String LLAMA3 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        /** CJK ideographs U+4E00..U+9FA5, U+0800..U+4E00 and Hangul U+AC00..U+D7FF, as llama.cpp lists them. */
        static final String CJK_HANGUL = "[\\u4E00-\\u9FA5\\u0800-\\u4E00\\uAC00-\\uD7FF]+";
        /** {@code " ?[^(\s|.,!?…。，、।۔،)]+"}. */
        static final String PORO = " ?[^(\\s|.,!?\\u2026\\u3002\\uFF0C\\u3001\\u0964\\u06D4\\u060C)]+";

        private Regexes() {
        }
    }

    /** Per-type vocabulary flags set by llama.cpp before the GGUF keys are read. */
    private enum Flags {
        NONE, ADD_BOS, IGNORE_MERGES_ADD_BOS, NO_BOS_TOKEN
    }

    private final Flags flags;
    private final List<String> names;
    private final List<String> regexes;
    private final List<Pattern> patterns;

    PreTokenizer(Flags flags, List<String> names, String... regexes) {
        this.flags = flags;
        this.names = names;
        this.regexes = List.of(regexes);
        List<Pattern> compiled = new ArrayList<>(regexes.length);
        for (String regex : regexes) {
            compiled.add(Pattern.compile(withUnicodeWhitespace(regex)));
        }
        this.patterns = List.copyOf(compiled);
    }

    /**
     * The pre-tokenizer for a {@code tokenizer.ggml.pre} value; an absent key means {@link #DEFAULT}.
     *
     * @throws ModelFormatException naming the value and {@code origin} when we do not know it
     */
    public static PreTokenizer fromGguf(String name, String origin) {
        if (name == null || name.isEmpty()) {
            return DEFAULT;
        }
        for (PreTokenizer p : values()) {
            if (p.names.contains(name)) {
                return p;
            }
        }
        throw new ModelFormatException(origin + ": unknown pre-tokenizer type '" + name
                + "' (metadata key 'tokenizer.ggml.pre'); known: " + knownNames());
    }

    private static Set<String> knownNames() {
        Set<String> all = new java.util.TreeSet<>();
        for (PreTokenizer p : values()) {
            all.addAll(p.names);
        }
        return all;
    }

    /** The {@code tokenizer.ggml.pre} values this type stands for. */
    public List<String> names() {
        return names;
    }

    /** The regexes as llama.cpp lists them, applied in order. */
    public List<String> regexes() {
        return regexes;
    }

    /** Whether a whole pre-token found in the vocabulary is emitted without merging (llama.cpp {@code ignore_merges}). */
    boolean ignoreMerges() {
        return flags == Flags.IGNORE_MERGES_ADD_BOS;
    }

    /** llama.cpp's {@code add_bos} default for this type, before {@code tokenizer.ggml.add_bos_token}. */
    boolean addBosByDefault() {
        return flags == Flags.ADD_BOS || flags == Flags.IGNORE_MERGES_ADD_BOS;
    }

    /** Whether llama.cpp clears the BOS id for this type (chatglm). */
    boolean clearsBosToken() {
        return flags == Flags.NO_BOS_TOKEN;
    }

    /** Splits {@code text} into pre-tokens; concatenated they give back {@code text}. */
    public List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        if (text.isEmpty()) {
            return pieces;
        }
        pieces.add(text);
        for (Pattern pattern : patterns) {
            List<String> next = new ArrayList<>(pieces.size() * 2);
            for (String piece : pieces) {
                Matcher m = pattern.matcher(piece);
                int prev = 0;
                while (m.find()) {
                    if (m.start() > prev) {
                        next.add(piece.substring(prev, m.start()));
                    }
                    if (m.end() > m.start()) {
                        next.add(piece.substring(m.start(), m.end()));
                    }
                    prev = m.end();
                }
                if (prev < piece.length()) {
                    next.add(piece.substring(prev));
                }
            }
            pieces = next;
        }
        return pieces;
    }

    /** {@code \s} / {@code \S} as Unicode White_Space, which llama.cpp's matchers use (Java's {@code \s} is ASCII). */
    private static String withUnicodeWhitespace(String regex) {
        StringBuilder out = new StringBuilder(regex.length() + 32);
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                char n = regex.charAt(i + 1);
                if (n == 's') {
                    out.append("\\p{IsWhite_Space}");
                } else if (n == 'S') {
                    out.append("\\P{IsWhite_Space}");
                } else {
                    out.append(c).append(n);
                }
                i++;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
