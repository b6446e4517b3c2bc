package dev.taipan.runtime.arch.mamba3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Taipan;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code safetensors → mamba3 GGUF}: the converted file loads through the GGUF path and gives the
 * safetensors directory's logits. F32: within 1e-5. F16: within 1e-4 for the BF16 checkpoint (its
 * values are exact in F16) and within 5e-3 for the F32 ones (F16 rounding of the matrices).
 * F16, Q8_0 and Q4_0 files equal, within 1e-4, an F32 file holding their dequantized values (so
 * the only difference is the storage), and their distance to the original logits, relative to
 * max(1, max|logit|), stays under the measured quantization error of these random-weight models
 * with 48/64-wide rows (two or three blocks per row): Q8_0 ≤ 0.03 (measured 0.014), Q4_0 ≤ 0.35
 * (measured 0.24); ../shared/fixtures/README.md measures Q8_0 errors of the same size in llama.cpp.
 */
class Mamba3ConverterTest {
    private static final Parallel PAR = Parallel.create(2);

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        PAR.close();
    }

    @ParameterizedTest
    @CsvSource({
        "siso_softplus_f32, F32, 1e-5",
        "mimo2_outnorm_heavytail_bf16, F32, 1e-5",
        "siso_heavytail_rope1_g2_f32, F16, 5e-3",
        "mimo2_outnorm_heavytail_bf16, F16, 1e-4",
        "siso_heavytail_rope1_g2_f32, Q8_0, 0.03",
        "mimo2_outnorm_heavytail_bf16, Q8_0, 0.03",
        "siso_softplus_f32, Q4_0, 0.35",
        "mimo2_outnorm_heavytail_bf16, Q4_0, 0.35"})
    void convertedFileGivesTheSameLogits(String fixture, Mamba3GgufConverter.Target target, double tol) {
        Path dir = Mamba3Run.FIXTURES.resolve(fixture);
        int[] tokens = Mamba3Run.tokens(dir);
        float[][] expected;
        try (SafetensorsSource st = SafetensorsSource.open(dir)) {
            expected = Mamba3Run.logits(Mamba3Run.build(st, Kernels.vector(), PAR), tokens, tokens.length);
        }
        Path out = tmp.resolve(fixture + "-" + target + ".gguf");
        Mamba3GgufConverter.convert(dir, out, target);
        try (GgufFile gguf = GgufFile.open(out)) {
            assertEquals(Mamba3Architecture.NAME, gguf.metadata().getString("general.architecture"));
            assertEquals(target.type(), gguf.get("blk.0.ssm_out.weight").type(), "matrix type");
            assertEquals(DType.F32, gguf.get("blk.0.ssm_b_bias").type(), "small parameters stay F32");
            Network net = Mamba3Run.build(gguf, Kernels.vector(), PAR);
            float[][] got = Mamba3Run.logits(net, tokens, tokens.length);
            double scale = target.type().isBlockFormat() ? Math.max(1, maxAbs(expected)) : 1;
            double diff = Mamba3Run.maxDiff(expected, got) / scale;
            assertTrue(diff <= tol, fixture + " " + target + ": max|diff| " + diff + " > " + tol);
            if (target != Mamba3GgufConverter.Target.F32) {
                float[][] deq = Mamba3Run.logits(Mamba3Run.build(dequantized(gguf), Kernels.vector(), PAR),
                        tokens, tokens.length);
                double d = Mamba3Run.maxDiff(deq, got);
                assertTrue(d <= 1e-4, fixture + " " + target + " vs dequantized F32: " + d);
            }
        }
    }

    private static double maxAbs(float[][] x) {
        double m = 0;
        for (float[] row : x) {
            for (float v : row) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    /**
     * A tokenizer.json next to the checkpoint becomes the GGUF file's tokenizer: the file's
     * tokenizer has the directory's tokens, types and special ids and encodes and decodes every
     * string the same way. The vocabulary (97 ids, the fixtures' vocab_size): byte-level
     * {@code '!'..'}'} and {@code 'Ġ'} (space), the merges {@code "Ġ t"} and {@code "h e"}, and
     * {@code <|endoftext|>} as BOS and EOS.
     */
    @Test
    void tokenizerJsonBecomesTheFilesTokenizer() throws IOException {
        Path src = Mamba3Run.FIXTURES.resolve("siso_softplus_f32");
        Path dir = Files.createDirectories(tmp.resolve("with-tokenizer"));
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            Files.copy(src.resolve(f), dir.resolve(f));
        }
        StringBuilder vocab = new StringBuilder();
        for (char c = '!'; c <= '}'; c++) {
            String json = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : String.valueOf(c);
            vocab.append('"').append(json).append("\": ").append(c - '!').append(", ");
        }
        vocab.append("\"\u0120\": 93, \"\u0120t\": 94, \"he\": 95");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {" + vocab
                + "}, \"merges\": [\"\u0120 t\", \"h e\"]}, \"added_tokens\": [{\"id\": 96, \"content\": "
                + "\"<|endoftext|>\", \"special\": true}], \"pre_tokenizer\": {\"type\": \"ByteLevel\", "
                + "\"add_prefix_space\": false, \"use_regex\": true}}");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<|endoftext|>\", \"eos_token\": \"<|endoftext|>\", \"add_bos_token\": false}");
        Path out = tmp.resolve("with-tokenizer.gguf");
        Mamba3GgufConverter.convert(dir, out, Mamba3GgufConverter.Target.Q8_0);
        try (GgufFile gguf = GgufFile.open(out)) {
            assertEquals("gpt2", gguf.metadata().getString("tokenizer.ggml.model"));
            assertEquals(List.of("\u0120 t", "h e"), gguf.metadata().getStringArray("tokenizer.ggml.merges"));
        }
        LoadOptions one = LoadOptions.defaults().withThreads(1);
        try (Model fromDir = Taipan.load(dir, one); Model fromFile = Taipan.load(out, one)) {
            Tokenizer want = fromDir.tokenizer().orElseThrow();
            Tokenizer got = fromFile.tokenizer().orElseThrow();
            assertEquals(97, got.vocabSize());
            for (int id = 0; id < 97; id++) {
                assertEquals(want.tokenText(id), got.tokenText(id), "token " + id);
                assertEquals(want.tokenType(id), got.tokenType(id), "type of token " + id);
            }
            assertEquals(96, got.bos());
            assertEquals(96, got.eos());
            assertEquals(want.addsBos(), got.addsBos());
            for (String text : new String[] {"the tea", "Hello, world!", "a  b", "he the {x}", " t"}) {
                int[] ids = got.encode(text);
                assertArrayEquals(want.encode(text), ids, text);
                assertEquals(text, got.decode(ids), text);
            }
            assertArrayEquals(new int[] {'t' - '!', 95, 94, 'e' - '!', 'a' - '!'}, got.encode("the tea"),
                    "the merges apply");
        }
    }

    private GgufFile dequantized(GgufFile q) {
        return Mamba3Run.dequantized(q, tmp.resolve("deq-" + q.path().getFileName()));
    }
}
