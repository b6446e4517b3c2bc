package dev.taipan.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.tokenizer.EncodeOptions;
import dev.taipan.loaders.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A safetensors directory with a tokenizer.json gets that tokenizer through Taipan.load. */
class SafetensorsTokenizerTest {

    /** A byte-level BPE vocabulary of 97 ids: '!'..'~' (0..93), 'Ġ' (94), 'Ċ' (95), <|endoftext|> (96). */
    private static String tokenizerJson() {
        StringBuilder vocab = new StringBuilder();
        for (char c = '!'; c <= '~'; c++) {
            String key = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : String.valueOf(c);
            vocab.append('"').append(key).append("\": ").append(c - '!').append(", ");
        }
        vocab.append("\"\u0120\": 94, \"\u010A\": 95");
        return """
                {"version": "1.0",
                 "added_tokens": [{"id": 96, "content": "<|endoftext|>", "special": true}],
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
                 "model": {"type": "BPE", "vocab": {%s}, "merges": []}}
                """.formatted(vocab);
    }

    @Test
    void tokenizerJsonBesideTheWeightsIsLoaded(@TempDir Path dir) throws IOException, URISyntaxException {
        Path fixture = SessionTest.fixture("mamba3/siso_softplus_f32");
        try (Stream<Path> files = Files.list(fixture)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson());
        try (Model model = Taipan.load(dir, LoadOptions.defaults().withThreads(1))) {
            assertEquals("mamba3", model.architecture());
            Tokenizer tok = model.tokenizer().orElseThrow();
            assertEquals(97, tok.vocabSize());
            int[] ids = tok.encode("ab c", EncodeOptions.NO_BOS);
            assertArrayEquals(new int[] {'a' - '!', 'b' - '!', 94, 'c' - '!'}, ids);
            assertEquals("ab c", tok.decode(ids));
            List<Integer> generated = new ArrayList<>();
            model.newSession(Sampling.greedy()).generateTokens(ids, 4, generated::add);
            assertTrue(generated.stream().allMatch(id -> id >= 0 && id < 97), generated.toString());
        }
    }
}
