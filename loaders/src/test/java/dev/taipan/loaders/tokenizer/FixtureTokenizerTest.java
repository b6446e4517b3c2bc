package dev.taipan.loaders.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.gguf.GgufFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Tokenizers read from real GGUF files against llama.cpp's own tokenization (fixtures copied from
 * shared/fixtures, see its README sections 3 and 4): {@code stories260K.gguf} (SentencePiece,
 * {@code real/strings.tsv}, {@code real/greedy_*.txt}) and {@code tiny-llama-moe-f32.gguf} (GPT-2
 * byte-level BPE, {@code tokenizer/strings.tsv}). Command that made the ids:
 * {@code llama-tokenize -m <gguf> -f <file> --no-escape --ids --log-disable [--no-bos]} (llama.cpp 34af94cd).
 */
class FixtureTokenizerTest {

    /** One line of strings.tsv: the text and llama-tokenize's ids with defaults and with --no-bos. */
    record Case(int n, String text, int[] withDefaults, int[] noBos) {
    }

    static Tokenizer load(String gguf) {
        try (GgufFile file = GgufFile.open(resource(gguf))) {
            return Tokenizers.fromMetadata(file.metadata());
        }
    }

    static Path resource(String name) {
        try {
            return Path.of(FixtureTokenizerTest.class.getResource("/tokenizer/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource tokenizer/" + name, e);
        }
    }

    static List<Case> cases(String tsv) {
        List<Case> out = new ArrayList<>();
        for (String line : lines(tsv)) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] cols = line.split("\t", -1);
            out.add(new Case(Integer.parseInt(cols[0]), JsonString.parse(cols[1]), ids(cols[2]), ids(cols[3])));
        }
        return out;
    }

    static Map<String, String> keyedLines(String name) {
        return lines(name).stream().filter(l -> !l.startsWith("#") && l.contains("\t"))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf('\t')), l -> l.substring(l.indexOf('\t') + 1)));
    }

    static List<String> lines(String name) {
        try {
            return Files.readAllLines(resource(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ids(String column) {
        return column.isBlank() ? new int[0] : Arrays.stream(column.trim().split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    @Test
    void stories260kMatchesLlamaTokenize() {
        Tokenizer t = load("stories260K.gguf");
        assertEquals(Tokenizer.Kind.SENTENCE_PIECE, t.kind());
        assertEquals(512, t.vocabSize());
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertTrue(t.addsBos(), "no add_bos_token key: llama.cpp adds BOS for SentencePiece");
        assertTrue(t.isEog(2));
        List<Case> cases = cases("stories260K-strings.tsv");
        assertEquals(11, cases.size());
        for (Case c : cases) {
            assertArrayEquals(c.withDefaults(), t.encode(c.text()), () -> "string " + c.n() + " " + c.text());
            assertArrayEquals(c.noBos(), t.encode(c.text(), EncodeOptions.NO_BOS), () -> "--no-bos string " + c.n());
            assertEquals(c.text(), t.decode(t.encode(c.text())), () -> "round trip of string " + c.n());
        }
    }

    @Test
    void tinyGpt2VocabMatchesLlamaTokenize() {
        Tokenizer t = load("tiny-llama-moe-f32.gguf");
        assertEquals(Tokenizer.Kind.BYTE_LEVEL_BPE, t.kind());
        assertEquals(PreTokenizer.GPT2, t.preTokenizer().orElseThrow());
        assertEquals(262, t.vocabSize());
        assertEquals(261, t.bos());
        assertEquals(261, t.eos());
        assertFalse(t.addsBos());
        assertTrue(t.isEog(261));
        assertEquals("<|endoftext|>", t.piece(261));
        assertEquals(" the", t.piece(260));
        List<Case> cases = cases("tiny-gpt2-strings.tsv");
        assertEquals(11, cases.size());
        for (Case c : cases) {
            assertArrayEquals(c.withDefaults(), t.encode(c.text()), () -> "string " + c.n() + " " + c.text());
            assertArrayEquals(c.noBos(), t.encode(c.text(), EncodeOptions.NO_BOS), () -> "--no-bos string " + c.n());
            assertEquals(c.text(), t.decode(t.encode(c.text())), () -> "round trip of string " + c.n());
        }
        // the end-of-text token is parsed out of the text only when special parsing is on
        assertArrayEquals(new int[] {120, 261, 121}, t.encode("x<|endoftext|>y"));
        int[] plain = t.encode("x<|endoftext|>y", EncodeOptions.PLAIN_TEXT);
        assertFalse(Arrays.stream(plain).anyMatch(id -> id == 261));
        assertEquals("x<|endoftext|>y", t.decode(plain));
    }

    @Test
    void greedyContinuationsDecodeToLlamaSimpleText() {
        Tokenizer t = load("stories260K.gguf");
        for (String name : List.of("greedy_once_upon_a_time.txt", "greedy_the_little_dog.txt")) {
            Map<String, String> f = keyedLines(name);
            int[] prompt = ids(f.get("prompt_ids"));
            int[] generated = ids(f.get("generated_ids"));
            String text = JsonString.parse(f.get("generated_text"));
            assertEquals(text, t.decode(generated), name);
            StringBuilder pieces = new StringBuilder();
            StringBuilder streamed = new StringBuilder();
            StreamingDecoder stream = t.streamingDecoder();
            for (int id : generated) {
                pieces.append(t.piece(id));
                streamed.append(stream.push(id));
            }
            streamed.append(stream.flush());
            assertEquals(text, pieces.toString(), name);
            assertEquals(text, streamed.toString(), name);

            // llama-simple prints every piece of prompt and continuation, BOS as "<s>", then a newline
            int[] all = concat(prompt, generated);
            StringBuilder stdout = new StringBuilder();
            for (int id : all) {
                stdout.append(t.piece(id));
            }
            assertEquals(JsonString.parse(f.get("llama_simple_stdout")), stdout + "\n", name);
            String promptText = name.contains("once") ? "Once upon a time" : "The little dog";
            assertArrayEquals(prompt, t.encode(promptText), name);
            assertEquals(promptText + text, t.decode(all), name);
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
