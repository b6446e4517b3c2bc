package dev.taipan.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.bench.SyntheticModels;
import dev.taipan.quant.RepackedTensor;
import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Taipan;
import dev.taipan.tensor.DType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The synthetic model writer and {@code taipan bench} on the tiny qwen3moe preset. */
class BenchCommandTest {

    /** Mapped weights: decode and prefill both use f32 activations, so they agree to 1e-4. */
    @Test
    void syntheticModelLoadsAndPrefillEqualsStepwiseDecode(@TempDir Path dir) {
        Path file = dir.resolve("tiny-q8.gguf");
        SyntheticModels.write(SyntheticModels.QWEN3MOE_TINY, DType.Q8_0, 7, file);
        int[] tokens = {1, 300, 301, 5, 511, 260};
        LoadOptions opts = LoadOptions.defaults().withThreads(1).withContextLength(16).withMaxBatch(8)
                .withWeights(LoadOptions.WeightLayout.MAPPED);
        try (Model m = Taipan.load(file, opts)) {
            assertEquals("qwen3moe", m.architecture());
            assertEquals(512, m.vocabSize());
            assertEquals(2, m.network().layers().size());
            float[][] batch = m.newSession(Sampling.greedy()).logits(tokens);
            var step = m.newSession(Sampling.greedy());
            for (int p = 0; p < tokens.length; p++) {
                float[] row = step.decode(tokens[p]);
                for (int v = 0; v < row.length; v++) {
                    assertEquals(batch[p][v], row[v], 1e-4f * Math.max(1f, Math.abs(batch[p][v])), "pos " + p);
                }
            }
            // weights read per token: every tensor except 6 of the 8 experts' rows and all but one embedding row
            long perToken = BenchCommand.bytesPerToken(m);
            assertTrue(perToken > 0 && perToken < m.source().names().stream()
                    .mapToLong(n -> m.source().find(n).orElseThrow().data().byteSize()).sum(), "" + perToken);
        }
    }

    /**
     * Repacked Q8_0 and Q4_0 (the default): decode and prefill run the same integer kernels
     * (activations rounded to int8 per block of 32, as llama.cpp does), whose outputs do not depend
     * on the batch, and the rest of this model's forward pass computes a token of a batch as it
     * computes it alone, so a prompt's logits equal those of feeding it token by token, bit for bit.
     * (When prefill ran the mapped tiled path in f32, the two differed by 1.5-1.9 % of the largest
     * logit.)
     */
    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0"})
    void repackedStepwiseDecodeEqualsPrefill(DType type, @TempDir Path dir) {
        Path file = dir.resolve("tiny.gguf");
        SyntheticModels.write(SyntheticModels.QWEN3MOE_TINY, type, 7, file);
        int[] tokens = {1, 300, 301, 5, 511, 260};
        LoadOptions opts = LoadOptions.defaults().withThreads(2).withContextLength(16).withMaxBatch(8);
        try (Model m = Taipan.load(file, opts)) {
            float[][] batch = m.newSession(Sampling.greedy()).logits(tokens);
            var step = m.newSession(Sampling.greedy());
            for (int p = 0; p < tokens.length; p++) {
                assertArrayEquals(batch[p], step.decode(tokens[p]), "pos " + p);
            }
        }
    }

    /** {@code bench --json} of a tiny qwen3moe file of {@code type} with {@code options}; the JSON line. */
    private static String benchJson(Path dir, DType type, String... options) {
        Path file = dir.resolve("tiny-" + type.name().toLowerCase(Locale.ROOT) + ".gguf");
        SyntheticModels.write(SyntheticModels.QWEN3MOE_TINY, type, 7, file);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] args = Stream.concat(Stream.of("bench", "--model", file.toString(),
                "--repeat", "1", "--threads", "1", "--probe-mib", "4", "--json"), Arrays.stream(options))
                .toArray(String[]::new);
        int status = TaipanCli.execute(args, new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, status, err.toString());
        return out.toString().strip();
    }

    @Test
    void benchReportsPositiveRatesAsJson(@TempDir Path dir) {
        String json = benchJson(dir, DType.Q4_0, "--prompt-tokens", "8", "--gen-tokens", "4");
        assertTrue(json.startsWith("{\"model\":\"tiny-q4_0.gguf\",\"threads\":1,\"prompt_tokens\":8,"), json);
        for (String key : new String[] {"prefill_tok_s", "decode_tok_s", "bytes_per_token", "read_gb_s",
            "cold_decode_tok_s"}) {
            Matcher m = Pattern.compile("\"" + key + "\":([0-9.]+)").matcher(json);
            assertTrue(m.find(), key + " in " + json);
            assertTrue(Double.parseDouble(m.group(1)) > 0, key + " in " + json);
        }
        assertTrue(json.contains("\"warmup_runs\":4,"), json);
        // at least --warmup runs, then more while the JIT compiled over 2 % of the last one (at most 24)
        Matcher done = Pattern.compile("\"warmup_runs_done\":([0-9]+),\"last_warmup_jit_share\":([0-9.]+),")
                .matcher(json);
        assertTrue(done.find(), json);
        int warmed = Integer.parseInt(done.group(1));
        assertTrue(warmed >= 4 && warmed <= 24, json);
        assertTrue(warmed == 24 || Double.parseDouble(done.group(2)) <= 0.02, json);
        assertTrue(json.contains(",\"read_ahead_steps\":" + RepackedTensor.readAheadSteps() + ","), json);
        // the build passes JitLimits.OPTIONS to the test JVM
        assertTrue(json.endsWith(",\"jit_limits_raised\":true}"), json);
        Matcher runs = Pattern.compile("\"decode_runs_tok_s\":\\[([0-9.,]+)\\]").matcher(json);
        assertTrue(runs.find(), json);
        Matcher median = Pattern.compile("\"decode_tok_s\":([0-9.]+)").matcher(json);
        assertTrue(median.find(), json);
        assertEquals(median.group(1), runs.group(1), "the one measured run is the median: " + json);
    }

    @Test
    void benchWithoutWarmUpHasNoColdRate(@TempDir Path dir) {
        String json = benchJson(dir, DType.Q8_0, "--prompt-tokens", "4", "--gen-tokens", "2", "--warmup", "0");
        assertTrue(json.contains("\"warmup_runs\":0,\"cold_decode_tok_s\":null,"), json);
        assertTrue(json.contains("\"warmup_runs_done\":0,\"last_warmup_jit_share\":null,"), json);
        assertTrue(json.endsWith(",\"jit_limits_raised\":true}"), json);
        StringWriter err = new StringWriter();
        int bad = TaipanCli.execute(new String[] {"bench", "--model", dir.resolve("none.gguf").toString(), "--warmup", "-1"},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(TaipanCli.USAGE_ERROR, bad);
        assertTrue(err.toString().contains("--warmup"), err.toString());
    }

    @Test
    void benchNeedsAModel() {
        StringWriter err = new StringWriter();
        int status = TaipanCli.execute(new String[] {"bench"}, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(TaipanCli.USAGE_ERROR, status);
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }
}
