package dev.taipan.runtime.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.runtime.Sampling;
import dev.taipan.tensor.Kernels;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Sampler semantics (llama.cpp src/llama-sampler.cpp). The statistical tests draw a fixed number of
 * times with a fixed seed, so they are deterministic; the tolerance (0.02, about 6 standard
 * deviations at 20000 draws) only says how close the seeded frequencies must be to the exact
 * probabilities worked out in each test.
 */
class SamplerTest {
    private static final int DRAWS = 20_000;
    private static final double TOLERANCE = 0.02;
    /** Probabilities 0.5, 0.3, 0.15, 0.05 as logits (shifted by 3: only differences matter). */
    private static final float[] LOGITS = logitsOf(0.5, 0.3, 0.15, 0.05);

    private static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (Math.log(probabilities[i]) + 3);
        }
        return logits;
    }

    private static double[] frequencies(Sampling sampling, float[] logits) {
        Sampler sampler = new Sampler(sampling, logits.length);
        int[] counts = new int[logits.length];
        for (int i = 0; i < DRAWS; i++) {
            counts[sampler.sample(logits)]++;
        }
        return Arrays.stream(counts).mapToDouble(c -> c / (double) DRAWS).toArray();
    }

    private static void assertFrequencies(double[] expected, double[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == 0) {
                assertEquals(0, actual[i], "token " + i + " must never be drawn: " + Arrays.toString(actual));
            } else {
                assertEquals(expected[i], actual[i], TOLERANCE, "token " + i + ": " + Arrays.toString(actual));
            }
        }
    }

    private static float[] randomLogits(Random random, int n) {
        float[] logits = new float[n];
        for (int i = 0; i < n; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        return logits;
    }

    private static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void greedyIsTheArgmaxAndTheFirstOnTies() {
        Random random = new Random(1);
        Sampler greedy = new Sampler(Sampling.greedy(), 1000);
        for (int row = 0; row < 50; row++) {
            float[] logits = randomLogits(random, 1000);
            assertEquals(argmax(logits), greedy.sample(logits));
        }
        assertEquals(1, new Sampler(Sampling.greedy(), 4).sample(new float[] {0, 5, 5, -1}));
        assertEquals(2, new Sampler(Sampling.temperature(0), 3).sample(new float[] {-3, -2, -1}));
    }

    @Test
    void rowsAreReadAtTheirOffsetAndLeftUnchanged() {
        float[] rows = {9, 0, 0, /* row 1: */ 1, 7, 2, /* row 2: */ 3, 0, 8};
        float[] copy = rows.clone();
        Sampler greedy = new Sampler(Sampling.greedy().repetitionPenalty(1.5), 3);
        assertEquals(0, greedy.sample(rows, 0, TokenHistory.EMPTY));
        assertEquals(1, greedy.sample(rows, 3, TokenHistory.EMPTY));
        assertEquals(2, greedy.sample(rows, 6, TokenHistory.of(0, 1)));
        assertArrayEquals(copy, rows);
        assertThrows(IllegalArgumentException.class, () -> greedy.sample(rows, 7, TokenHistory.EMPTY));
        assertThrows(IllegalArgumentException.class, () -> greedy.sample(rows, -1, TokenHistory.EMPTY));
    }

    @Test
    void topKOneIsGreedy() {
        Random random = new Random(2);
        Sampler topK1 = new Sampler(Sampling.temperature(1.5).topK(1).seed(5), 500);
        for (int row = 0; row < 100; row++) {
            float[] logits = randomLogits(random, 500);
            assertEquals(argmax(logits), topK1.sample(logits));
        }
    }

    @Test
    void seededSamplersRepeatTheirDraws() {
        Sampling sampling = Sampling.temperature(0.9).topP(0.95).topK(50).minP(0.01).seed(42);
        Random random = new Random(3);
        float[][] rows = new float[200][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = randomLogits(random, 300);
        }
        int[] first = drawAll(new Sampler(sampling, 300), rows);
        int[] second = drawAll(new Sampler(sampling, 300), rows);
        int[] otherSeed = drawAll(new Sampler(sampling.seed(43), 300), rows);
        assertArrayEquals(first, second);
        assertNotEquals(Arrays.toString(first), Arrays.toString(otherSeed));
        assertTrue(Arrays.stream(first).distinct().count() > 50, "draws must vary with the logits");
    }

    private static int[] drawAll(Sampler sampler, float[][] rows) {
        return Arrays.stream(rows).mapToInt(sampler::sample).toArray();
    }

    @Test
    void temperatureOneDrawsFromTheSoftmax() {
        assertFrequencies(new double[] {0.5, 0.3, 0.15, 0.05}, frequencies(Sampling.temperature(1).seed(11), LOGITS));
    }

    @Test
    void temperatureSharpensTheDistribution() {
        // t = 0.5 squares the probabilities: 0.25, 0.09, 0.0225, 0.0025 over 0.365
        double z = 0.365;
        assertFrequencies(new double[] {0.25 / z, 0.09 / z, 0.0225 / z, 0.0025 / z},
                frequencies(Sampling.temperature(0.5).seed(12), LOGITS));
    }

    @Test
    void topKKeepsTheKMostLikely() {
        assertFrequencies(new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0},
                frequencies(Sampling.temperature(1).topK(2).seed(13), LOGITS));
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // cumulative 0.5, 0.8: p = 0.75 is reached with the second token
        assertFrequencies(new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0},
                frequencies(Sampling.temperature(1).topP(0.75).seed(14), LOGITS));
        // cumulative 0.5, 0.8, 0.95: p = 0.82 needs three tokens
        assertFrequencies(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0},
                frequencies(Sampling.temperature(1).topP(0.82).seed(15), LOGITS));
    }

    @Test
    void topPRenormalisesOverTheTopKSet() {
        // after top-k 3 the probabilities are 0.526, 0.316, 0.158: cumulative 0.842 reaches 0.82 at two tokens
        assertFrequencies(new double[] {0.5 / 0.8, 0.3 / 0.8, 0, 0},
                frequencies(Sampling.temperature(1).topK(3).topP(0.82).seed(16), LOGITS));
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        // min-p 0.2 of 0.5 = 0.1: the 0.05 token goes
        assertFrequencies(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0},
                frequencies(Sampling.temperature(1).minP(0.2).seed(17), LOGITS));
        // min-p 0.7 of 0.5 = 0.35: only the best token is left
        assertFrequencies(new double[] {1, 0, 0, 0}, frequencies(Sampling.temperature(1).minP(0.7).seed(18), LOGITS));
    }

    @Test
    void minPAfterTopPAndTemperatureLast() {
        // top-p 0.82 keeps three, min-p 0.4 (of 0.5 = 0.2) keeps two; then t = 2 flattens 0.5 : 0.3 to sqrt
        double a = Math.sqrt(0.5);
        double b = Math.sqrt(0.3);
        assertFrequencies(new double[] {a / (a + b), b / (a + b), 0, 0},
                frequencies(Sampling.temperature(2).topP(0.82).minP(0.4).seed(19), LOGITS));
    }

    /** The kept set computed the obvious way: full sort, top-k prefix, top-p prefix, min-p filter. */
    private static int[] referenceCandidates(Sampling s, float[] logits) {
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        int count = s.topK() > 0 ? Math.min(s.topK(), n) : n;
        double max = logits[order[0]];
        if (s.topP() < 1) {
            double sum = 0;
            for (int i = 0; i < count; i++) {
                sum += Math.exp(logits[order[i]] - max);
            }
            double cumulative = 0;
            for (int i = 0; i < count; i++) {
                cumulative += Math.exp(logits[order[i]] - max) / sum;
                if (cumulative >= s.topP()) {
                    count = i + 1;
                    break;
                }
            }
        }
        if (s.minP() > 0) {
            int kept = 0;
            while (kept < count && logits[order[kept]] >= max + Math.log(s.minP())) {
                kept++;
            }
            count = Math.max(kept, 1);
        }
        return Arrays.stream(order, 0, count).mapToInt(Integer::intValue).sorted().toArray();
    }

    @Test
    void filtersKeepTheSameTokensAsANaiveReference() {
        Sampling t = Sampling.temperature(1);
        Sampling[] configs = {t.topK(40), t.topP(0.9), t.topP(0.5), t.minP(0.05), t.topK(40).topP(0.95).minP(0.05),
            t.topK(3).minP(0.3), t.topP(0.99).minP(0.01), t.topK(1500), t.topK(300).topP(0.999)};
        Random random = new Random(9);
        int n = 1500;
        for (double scale : new double[] {0.5, 3, 10}) {
            for (int row = 0; row < 4; row++) {
                float[] logits = randomLogits(random, n);
                for (int i = 0; i < n; i++) {
                    // coarse values make ties, which both order by id
                    logits[i] = row % 2 == 0 ? (float) (logits[i] * scale / 3) : Math.round(logits[i] * 2) / 2f;
                }
                for (Sampling config : configs) {
                    int[] expected = referenceCandidates(config, logits);
                    // the Vector API kernels on one row per scale: cold (not yet compiled) they are slow
                    for (Kernels kernels : row == 0 ? List.of(Kernels.scalar(), Kernels.vector()) : List.of(Kernels.scalar())) {
                        assertArrayEquals(expected, new Sampler(config, n, kernels).candidates(logits),
                                config + " scale " + scale + " " + kernels.getClass().getSimpleName());
                    }
                }
            }
        }
    }

    @Test
    void penaltiesChangeOnlyRecentTokensAsLlamaCpp() {
        Sampling sampling = Sampling.greedy().repetitionPenalty(2).frequencyPenalty(0.1).presencePenalty(0.5);
        float[] logits = {1, 2, 0, -2, 0.5f};
        Sampler sampler = new Sampler(sampling, 5);
        float[] penalised = logits.clone();
        sampler.applyPenalties(penalised, TokenHistory.of(1, 1, 3, 2));
        // token 1 (seen twice): 2 / 2 - (2 * 0.1 + 0.5); token 3: -2 * 2 - (0.1 + 0.5); token 2: 0 * 2 - 0.6
        assertArrayEquals(new float[] {1, 1 - 0.7f, -0.6f, -4 - 0.6f, 0.5f}, penalised, 1e-6f);

        // a window of 2 sees only "3, 2"
        float[] windowed = logits.clone();
        new Sampler(sampling.penaltyWindow(2), 5).applyPenalties(windowed, TokenHistory.of(1, 1, 3, 2));
        assertArrayEquals(new float[] {1, 2, -0.6f, -4.6f, 0.5f}, windowed, 1e-6f);

        // the history is a view: only its first `length` tokens count
        float[] prefix = logits.clone();
        sampler.applyPenalties(prefix, new TokenHistory(new int[] {3, 1, 1}, 1));
        assertArrayEquals(new float[] {1, 2, 0, -4.6f, 0.5f}, prefix, 1e-6f);

        // window 0 or no penalties: unchanged
        float[] off = logits.clone();
        new Sampler(sampling.penaltyWindow(0), 5).applyPenalties(off, TokenHistory.of(1, 3));
        new Sampler(Sampling.greedy(), 5).applyPenalties(off, TokenHistory.of(1, 3));
        assertArrayEquals(logits, off);
    }

    @Test
    void repetitionPenaltySteersGreedyAwayFromRecentTokens() {
        float[] logits = {1, 3, 2.5f};
        assertEquals(1, new Sampler(Sampling.greedy(), 3).sample(logits, 0, TokenHistory.of(1)));
        assertEquals(2, new Sampler(Sampling.greedy().repetitionPenalty(1.3), 3).sample(logits, 0, TokenHistory.of(1)));
        assertEquals(1, new Sampler(Sampling.greedy().repetitionPenalty(1.3), 3).sample(logits, 0, TokenHistory.of(0)));
        assertEquals(2, new Sampler(Sampling.greedy().presencePenalty(1), 3).sample(logits, 0, TokenHistory.of(1)));
    }

    @Test
    void historyOutsideTheVocabularyIsRejectedWithoutSideEffects() {
        Sampler sampler = new Sampler(Sampling.greedy().presencePenalty(1), 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sampler.sample(new float[] {0, 1, 2}, 0, TokenHistory.of(1, 7)));
        assertTrue(e.getMessage().contains("7") && e.getMessage().contains("3"), e.getMessage());
        float[] logits = {0, 1, 2};
        sampler.applyPenalties(logits, TokenHistory.of(2));
        assertArrayEquals(new float[] {0, 1, 1}, logits, "token 1 was not counted by the rejected call");
    }

    @Test
    void keysOrderByLogitThenLowerIdFirst() {
        assertTrue(Sampler.key(1f, 5) > Sampler.key(0.5f, 0));
        assertTrue(Sampler.key(-0.5f, 5) > Sampler.key(-1f, 0));
        assertTrue(Sampler.key(0f, 0) > Sampler.key(-0f, 1) && Sampler.key(-0f, 1) > Sampler.key(-1e-30f, 0));
        assertTrue(Sampler.key(2f, 3) > Sampler.key(2f, 4), "equal logits: the lower id sorts higher");
        assertTrue(Sampler.key(Float.NEGATIVE_INFINITY, 0) < Sampler.key(-Float.MAX_VALUE, 9));
        for (int id : new int[] {0, 1, 151_935, Integer.MAX_VALUE}) {
            assertEquals(id, Sampler.id(Sampler.key(-3.5f, id)));
        }
        assertFalse(Sampler.key(1f, 0) < Sampler.key(1f, 1));
    }

    @Test
    void sampleAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] logits = randomLogits(new Random(4), 5000);
        TokenHistory history = TokenHistory.of(1, 2, 3, 2, 4999);
        Sampling t = Sampling.temperature(0.8).repetitionPenalty(1.1).presencePenalty(0.2).seed(1);
        for (Sampling config : List.of(Sampling.greedy().repetitionPenalty(1.1), t, t.topK(40).topP(0.95).minP(0.05),
                t.topP(0.9), t.minP(0.05))) {
            Sampler sampler = new Sampler(config, 5000, Kernels.scalar());
            // the least of three rounds, so that a one-off allocation by the JVM on this thread does not count
            long least = Long.MAX_VALUE;
            for (int round = 0; round < 3; round++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 20; i++) {
                    sampler.sample(logits, 0, history);
                }
                least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
            }
            assertEquals(0, least, config::toString);
        }
    }

    @Test
    void badSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(Sampling.greedy(), 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(Sampling.greedy(), 4).sample(new float[3]));
    }
}
