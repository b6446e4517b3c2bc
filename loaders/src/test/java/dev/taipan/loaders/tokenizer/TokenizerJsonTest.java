package dev.taipan.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.gguf.GgufFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face tokenizer.json files written from the tiny GGUF vocabulary (the way its generator,
 * gguf-py, would have read them) must tokenize the fixture strings exactly as llama-tokenize did
 * on the GGUF file.
 */
class TokenizerJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    @TempDir
    Path dir;

    /** tokenizer.json of the tiny vocabulary: 261 byte/merge tokens, "<|endoftext|>" (261) added as special. */
    private static ObjectNode tinyTokenizerJson(boolean pairMerges) {
        List<String> tokens;
        List<String> merges;
        try (GgufFile gguf = GgufFile.open(FixtureTokenizerTest.resource("tiny-llama-moe-f32.gguf"))) {
            tokens = gguf.metadata().getStringArray("tokenizer.ggml.tokens");
            merges = gguf.metadata().getStringArray("tokenizer.ggml.merges");
        }
        ObjectNode root = JSON.createObjectNode();
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < 261; i++) {
            vocab.put(tokens.get(i), i);
        }
        ArrayNode mergeList = model.putArray("merges");
        for (String merge : merges) {
            if (pairMerges) {
                mergeList.addArray().add(merge.split(" ")[0]).add(merge.split(" ")[1]);
            } else {
                mergeList.add(merge);
            }
        }
        root.putArray("added_tokens").addObject().put("id", 261).put("content", "<|endoftext|>").put("special", true);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel");
        return root;
    }

    private Path write(String name, ObjectNode json) throws IOException {
        Path path = dir.resolve(name);
        JSON.writeValue(path.toFile(), json);
        return path;
    }

    @Test
    void gpt2StyleTokenizerJsonMatchesLlamaTokenizeOnTheGgufVocabulary() throws IOException {
        for (boolean pairMerges : new boolean[] {false, true}) {
            Path file = write("tokenizer.json", tinyTokenizerJson(pairMerges));
            write("tokenizer_config.json", JSON.createObjectNode().put("bos_token", "<|endoftext|>")
                    .put("eos_token", "<|endoftext|>").put("chat_template", "{{ messages }}"));
            Tokenizer t = Tokenizers.fromTokenizerJson(file);
            assertEquals(PreTokenizer.GPT2, t.preTokenizer().orElseThrow());
            assertEquals(262, t.vocabSize());
            assertEquals(261, t.bos());
            assertEquals(261, t.eos());
            assertFalse(t.addsBos());
            assertEquals(TokenType.CONTROL, t.tokenType(261));
            assertEquals("{{ messages }}", t.chatTemplate().orElseThrow());
            for (FixtureTokenizerTest.Case c : FixtureTokenizerTest.cases("tiny-gpt2-strings.tsv")) {
                assertArrayEquals(c.withDefaults(), t.encode(c.text()), () -> "string " + c.n());
            }
        }
    }

    @Test
    void llama3StyleSplitAndTemplateGiveLlamaBpeWithBos() throws IOException {
        ObjectNode root = tinyTokenizerJson(false);
        ((ArrayNode) root.get("added_tokens")).addObject().put("id", 262).put("content", "<|begin_of_text|>")
                .put("special", true);
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.putObject("pattern").put("Regex", LLAMA3_REGEX);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<|begin_of_text|>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        Path file = write("tokenizer.json", root);
        Files.writeString(dir.resolve("chat_template.jinja"), "{% for m in messages %}{{ m }}{% endfor %}");
        write("config.json", JSON.createObjectNode().put("eos_token_id", 261));

        Tokenizer t = Tokenizers.fromTokenizerJson(file);
        assertEquals(PreTokenizer.LLAMA3, t.preTokenizer().orElseThrow());
        assertTrue(t.addsBos());
        assertEquals(262, t.bos());
        assertEquals(261, t.eos());
        assertArrayEquals(new int[] {262, 120, 49, 50, 51, 52}, t.encode("x1234"), "digits in groups of three");
        assertArrayEquals(new int[] {262, 262, 120}, t.encode("<|begin_of_text|>x"));
        assertEquals("{% for m in messages %}{{ m }}{% endfor %}", t.chatTemplate().orElseThrow());
    }

    @Test
    void unsupportedFilesNameTheFileAndTheReason() throws IOException {
        ObjectNode unigram = tinyTokenizerJson(false);
        ((ObjectNode) unigram.get("model")).put("type", "Unigram");
        Path file = write("tokenizer.json", unigram);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromTokenizerJson(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("Unigram"), e.getMessage());

        ObjectNode metaspace = tinyTokenizerJson(false);
        metaspace.putObject("pre_tokenizer").put("type", "Metaspace");
        Path other = write("tokenizer.json", metaspace);
        e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromTokenizerJson(other));
        assertTrue(e.getMessage().contains("pre_tokenizer") && e.getMessage().contains("Metaspace"), e.getMessage());

        Path missing = dir.resolve("absent/tokenizer.json");
        e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromTokenizerJson(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        Files.writeString(dir.resolve("broken.json"), "{ not json");
        e = assertThrows(ModelFormatException.class, () -> Tokenizers.fromTokenizerJson(dir.resolve("broken.json")));
        assertTrue(e.getMessage().contains("broken.json"), e.getMessage());
    }
}
