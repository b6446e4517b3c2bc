package dev.taipan.loaders.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.taipan.loaders.MapMetadata;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a Hugging Face {@code tokenizer.json} (byte-level BPE only) into the GGUF tokenizer keys that
 * llama.cpp's convert_hf_to_gguf.py would write ({@code get_vocab_base} and {@code SpecialVocab}),
 * so that the same {@link Vocabulary} code serves both: tokens by id (holes filled with
 * {@code [PADn]}, type unused), added tokens as control (special) or user-defined, merges, the
 * pre-tokenizer recognised from its regex, BOS/EOS and add-BOS/EOS from tokenizer_config.json,
 * config.json or the TemplateProcessing post-processor, and the chat template from
 * tokenizer_config.json or chat_template.jinja next to the file.
 *
 * <p>As in llama.cpp, a normalizer (e.g. Qwen2's NFC) is not applied. Pre-tokenizers other than the
 * GPT-2 byte-level regex, digits + GPT-2 (StarCoder), and the Llama 3 / Qwen2 / Qwen3.5 split regexes
 * are rejected with the pre-tokenizer named, as convert_hf_to_gguf.py rejects unknown ones.
 */
final class TokenizerJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Split regexes as they appear in tokenizer.json, mapped to llama.cpp's {@code tokenizer.ggml.pre}. */
    private static final Map<String, String> SPLIT_REGEXES = Map.of(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "llama-bpe",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "qwen2",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "qwen35");

    private final Path file;
    private final JsonNode root;
    private final Map<String, Object> keys = new LinkedHashMap<>();

    private TokenizerJson(Path file) {
        this.file = file;
        this.root = readJson(file).orElseThrow(() -> new ModelFormatException(file + ": no such file"));
    }

    /** GGUF-style tokenizer metadata for {@code tokenizer.json} and its sibling config files. */
    static Metadata read(Path tokenizerJson) {
        TokenizerJson t = new TokenizerJson(tokenizerJson);
        t.convert();
        return new MapMetadata(tokenizerJson.toString(), t.keys);
    }

    private void convert() {
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw error("model.type is '" + model.path("type").asText() + "'; only byte-level BPE is supported");
        }
        keys.put(MetaKeys.MODEL, "gpt2");
        keys.put(MetaKeys.PRE, preTokenizer(root.path("pre_tokenizer")));

        // tokens by id: the BPE vocabulary, then added tokens (which may also redefine ids)
        Map<Integer, String> byId = new HashMap<>();
        model.path("vocab").properties().forEach(e -> byId.put(e.getValue().asInt(), e.getKey()));
        Map<Integer, Long> addedType = new HashMap<>();
        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt();
            String content = added.path("content").asText();
            byId.put(id, content);
            boolean control = added.path("special").asBoolean() || (content.startsWith("<|") && content.endsWith("|>"));
            addedType.put(id, control ? 3L : 4L);
        }
        int n = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        if (n == 0 || byId.keySet().stream().anyMatch(id -> id < 0)) {
            throw error("model.vocab is empty or has negative ids");
        }
        List<String> tokens = new ArrayList<>(n);
        List<Long> types = new ArrayList<>(n);
        Map<String, Integer> idOf = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String token = byId.get(i);
            tokens.add(token == null ? "[PAD" + i + "]" : token);
            types.add(token == null ? 5L : addedType.getOrDefault(i, 1L));
            if (token != null) {
                idOf.putIfAbsent(token, i);
            }
        }
        keys.put(MetaKeys.TOKENS, tokens);
        keys.put(MetaKeys.TOKEN_TYPE, types);
        keys.put(MetaKeys.MERGES, merges(model.path("merges")));
        specialTokens(idOf);
    }

    /** The {@code tokenizer.ggml.pre} name of a byte-level pre-tokenizer. */
    private String preTokenizer(JsonNode pre) {
        String type = pre.path("type").asText();
        if (type.equals("ByteLevel") && pre.path("use_regex").asBoolean(true) && !pre.path("add_prefix_space").asBoolean()) {
            return "gpt-2";
        }
        if (type.equals("Sequence")) {
            JsonNode steps = pre.path("pretokenizers");
            if (steps.size() == 2 && steps.get(1).path("type").asText().equals("ByteLevel")
                    && !steps.get(1).path("add_prefix_space").asBoolean()) {
                JsonNode first = steps.get(0);
                boolean byteLevelRegex = steps.get(1).path("use_regex").asBoolean(true);
                if (first.path("type").asText().equals("Split") && !byteLevelRegex
                        && first.path("behavior").asText().equals("Isolated") && !first.path("invert").asBoolean()) {
                    String name = SPLIT_REGEXES.get(first.path("pattern").path("Regex").asText());
                    if (name != null) {
                        return name;
                    }
                }
                if (first.path("type").asText().equals("Digits") && first.path("individual_digits").asBoolean()
                        && byteLevelRegex) {
                    return "starcoder";
                }
            }
        }
        throw error("unsupported pre_tokenizer " + pre);
    }

    /** Merges as "left right" strings; newer files store them as [left, right] pairs. */
    private List<String> merges(JsonNode merges) {
        List<String> out = new ArrayList<>(merges.size());
        for (JsonNode m : merges) {
            if (m.isArray() && m.size() == 2) {
                out.add(m.get(0).asText() + " " + m.get(1).asText());
            } else if (m.isTextual()) {
                out.add(m.asText());
            } else {
                throw error("model.merges entry " + m + " is neither \"a b\" nor [a, b]");
            }
        }
        return out;
    }

    /** BOS/EOS/UNK/PAD ids, add-BOS/EOS flags and the chat template, as SpecialVocab finds them. */
    private void specialTokens(Map<String, Integer> idOf) {
        Path dir = file.toAbsolutePath().getParent();
        JsonNode config = readJson(dir.resolve("tokenizer_config.json")).orElse(JSON.missingNode());
        JsonNode modelConfig = readJson(dir.resolve("config.json")).orElse(JSON.missingNode());
        putId(MetaKeys.BOS_ID, tokenId(config.path("bos_token"), idOf), modelConfig.path("bos_token_id"));
        putId(MetaKeys.EOS_ID, tokenId(config.path("eos_token"), idOf), modelConfig.path("eos_token_id"));
        putId(MetaKeys.UNK_ID, tokenId(config.path("unk_token"), idOf), JSON.missingNode());
        putId(MetaKeys.PAD_ID, tokenId(config.path("pad_token"), idOf), modelConfig.path("pad_token_id"));

        // the post-processor's template says whether BOS/EOS go around a single sequence
        JsonNode single = root.path("post_processor").path("type").asText().equals("TemplateProcessing")
                ? root.path("post_processor").path("single") : JSON.missingNode();
        if (single.isArray() && !single.isEmpty()) {
            String head = single.get(0).path("SpecialToken").path("id").asText(null);
            String tail = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
            keys.putIfAbsent(MetaKeys.ADD_BOS, head != null);
            keys.putIfAbsent(MetaKeys.ADD_EOS, tail != null);
            if (head != null && idOf.containsKey(head)) {
                keys.putIfAbsent(MetaKeys.BOS_ID, (long) idOf.get(head));
            }
            if (tail != null && idOf.containsKey(tail)) {
                keys.putIfAbsent(MetaKeys.EOS_ID, (long) idOf.get(tail));
            }
        }
        if (config.path("add_bos_token").isBoolean()) {
            keys.put(MetaKeys.ADD_BOS, config.path("add_bos_token").asBoolean());
        }
        if (config.path("add_eos_token").isBoolean()) {
            keys.put(MetaKeys.ADD_EOS, config.path("add_eos_token").asBoolean());
        }
        chatTemplate(config, dir);
    }

    private void chatTemplate(JsonNode config, Path dir) {
        JsonNode template = config.path("chat_template");
        if (template.isTextual()) {
            keys.put(MetaKeys.CHAT_TEMPLATE, template.asText());
        } else if (template.isArray()) {
            for (JsonNode named : template) {
                if (named.path("name").asText().equals("default")) {
                    keys.put(MetaKeys.CHAT_TEMPLATE, named.path("template").asText());
                }
            }
        }
        Path jinja = dir.resolve("chat_template.jinja");
        if (!keys.containsKey(MetaKeys.CHAT_TEMPLATE) && Files.isRegularFile(jinja)) {
            try {
                keys.put(MetaKeys.CHAT_TEMPLATE, Files.readString(jinja));
            } catch (IOException e) {
                throw new ModelFormatException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        }
    }

    private void putId(String key, Optional<Integer> fromTokenizerConfig, JsonNode fromModelConfig) {
        if (fromTokenizerConfig.isPresent()) {
            keys.put(key, (long) fromTokenizerConfig.get());
        } else if (fromModelConfig.isIntegralNumber()) {
            keys.put(key, fromModelConfig.asLong());
        } else if (fromModelConfig.isArray() && !fromModelConfig.isEmpty() && fromModelConfig.get(0).isIntegralNumber()) {
            keys.put(key, fromModelConfig.get(0).asLong());
        }
    }

    /** A tokenizer_config.json token entry: a string, or an object with "content". */
    private static Optional<Integer> tokenId(JsonNode entry, Map<String, Integer> idOf) {
        String content = entry.isTextual() ? entry.asText() : entry.path("content").asText(null);
        return content == null ? Optional.empty() : Optional.ofNullable(idOf.get(content));
    }

    private static Optional<JsonNode> readJson(Path path) {
        if (!Files.isRegularFile(path)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readTree(path.toFile()));
        } catch (IOException e) {
            throw new ModelFormatException(path + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private ModelFormatException error(String message) {
        return new ModelFormatException(file + ": " + message);
    }
}
