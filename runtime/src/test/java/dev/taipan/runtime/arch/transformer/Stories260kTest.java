package dev.taipan.runtime.arch.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.testing.ReferenceLogits;
import dev.taipan.tensor.SessionLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * stories260K (karpathy tinyllamas, real trained weights, arch llama): logits equal llama.cpp's
 * and greedy continuations equal its tokens (fixtures/real, README §3).
 */
class Stories260kTest {
    private static final Path REAL = FixtureRun.FIXTURES.resolve("real");
    private static FixtureRun run;

    @BeforeAll
    static void load() {
        run = new FixtureRun(REAL.resolve("stories260K.gguf"));
    }

    @AfterAll
    static void close() {
        run.close();
    }

    @ParameterizedTest
    @EnumSource(FixtureRun.Feed.class)
    void logitsEqualLlamaCpp(FixtureRun.Feed feed) {
        ReferenceLogits ref = ReferenceLogits.read(REAL.resolve("logits_once_upon_a_time_there_was_a.txt"));
        ref.assertMatchesF32(run.logits(ref.tokens(), feed), 1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"greedy_once_upon_a_time.txt", "greedy_the_little_dog.txt"})
    void greedyContinuationEqualsLlamaCpp(String file) throws IOException {
        int[] prompt = null;
        int[] expected = null;
        for (String line : Files.readAllLines(REAL.resolve(file))) {
            String[] f = line.split("\t");
            if (f[0].equals("prompt_ids")) {
                prompt = ids(f[1]);
            } else if (f[0].equals("generated_ids")) {
                expected = ids(f[1]);
            }
        }
        assertEquals(64, expected.length);
        Network net = run.network();
        Network.State st = net.newState(new SessionLimits(prompt.length, prompt.length + expected.length));
        float[] logits = new float[net.vocabSize()];
        net.forward(prompt, 0, prompt.length, st);
        net.logits(st, prompt.length - 1, 1, logits, 0);
        int[] got = new int[expected.length];
        for (int i = 0; i < got.length; i++) {
            got[i] = argmax(logits);
            net.forward(got, i, 1, st);
            net.logits(st, 0, 1, logits, 0);
        }
        assertArrayEquals(expected, got, () -> file + ": got " + Arrays.toString(got));
    }

    /**
     * A 300-token prefill gives the same bits on 1 and 2 threads and when repeated: every kernel
     * computes each output in one order whatever the split, and softmax/SiLU use {@code Exp}, not
     * the Vector API's EXP, whose last bit changed once C2 compiled it.
     */
    @Test
    void logitsAreTheSameBitsOnOneAndTwoThreadsAndWhenRepeated() {
        int[] tokens = new int[300];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (i * 37) % 500 + 3;
        }
        float[][] first = run.logits(tokens, FixtureRun.Feed.BATCH);
        try (FixtureRun one = new FixtureRun(REAL.resolve("stories260K.gguf"), 1)) {
            float[][] single = one.logits(tokens, FixtureRun.Feed.BATCH);
            float[][] again = run.logits(tokens, FixtureRun.Feed.BATCH);
            for (int p = 0; p < tokens.length; p++) {
                assertArrayEquals(first[p], single[p], "position " + p + ", 1 thread against 2");
                assertArrayEquals(first[p], again[p], "position " + p + ", repeated");
            }
        }
    }

    @Test
    void isDenseLlamaWithFiveLayers() {
        Network net = run.network();
        assertEquals("llama", net.archName());
        assertEquals(512, net.vocabSize());
        assertEquals(5, net.layers().size());
        assertEquals("attention+dense", net.layers().get(0).kind().toString());
    }

    private static int[] ids(String s) {
        return Arrays.stream(s.trim().split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
