package dev.taipan.runtime.sampling;

import dev.taipan.runtime.Sampling;
import dev.taipan.tensor.Kernels;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks the next token from a row of logits as a {@link Sampling} says, following llama.cpp's
 * samplers (src/llama-sampler.cpp) in the order of its default chain (common/sampling.cpp):
 * <ol>
 *   <li>penalties ({@code llama_sampler_penalties}): for each token among the last
 *       {@code penaltyWindow} of the history, seen {@code c} times: a logit {@code <= 0} is multiplied
 *       by the repetition penalty, a positive one divided by it; then
 *       {@code c * frequencyPenalty + presencePenalty} is subtracted;</li>
 *   <li>top-k: the k highest logits (ties: lower id first);</li>
 *   <li>top-p: the softmax of what is left, most likely first, cut after the first token whose
 *       cumulative probability reaches p;</li>
 *   <li>min-p: tokens whose logit is below {@code maxLogit + ln(minP)} are dropped;</li>
 *   <li>temperature: logits divided by t, then one draw from their softmax. t = 0: the argmax of the
 *       penalised logits (the first one on ties), as llama.cpp's greedy sampler.</li>
 * </ol>
 * At least one token always survives. The random generator is L64X128MixRandom seeded from
 * {@link Sampling#seed()}, so a seeded sampler gives the same tokens for the same logits on every
 * run with the same {@link Kernels} (not llama.cpp's tokens: its generator is mt19937). Softmax,
 * argmax and top-k over the whole vocabulary run on the {@link Kernels} (Vector API by default).
 *
 * <p>Buffers for the vocabulary size are allocated once; {@link #sample} allocates nothing.
 * Not thread-safe: one per session.
 */
public final class Sampler {
    private static final RandomGeneratorFactory<RandomGenerator> GENERATORS =
            RandomGeneratorFactory.of("L64X128MixRandom");
    /** {@link #filter} found nothing to remove: every token is a candidate. */
    private static final int ALL = -1;

    private final Sampling sampling;
    private final int vocabSize;
    private final Kernels kernels;
    private final RandomGenerator random;
    private final float[] work;     // (vocabSize) penalised logits
    private final float[] probs;    // (vocabSize) softmax of work, for top-p and plain draws
    private final int[] topIds;     // (vocabSize) ids chosen by top-k, largest first
    private final long[] keys;      // (vocabSize) candidates as sortable (logit, id) keys, see key()
    private final int[] counts;     // (vocabSize) occurrences in the penalty window, zero between calls
    private final double[] weights; // (vocabSize) softmax numerators of the candidates

    /** A sampler for rows of {@code vocabSize} logits, on the Vector API kernels. */
    public Sampler(Sampling sampling, int vocabSize) {
        this(sampling, vocabSize, Kernels.vector());
    }

    /** A sampler for rows of {@code vocabSize} logits, on the given kernels. */
    public Sampler(Sampling sampling, int vocabSize, Kernels kernels) {
        this.sampling = Objects.requireNonNull(sampling, "sampling");
        this.kernels = Objects.requireNonNull(kernels, "kernels");
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        }
        this.vocabSize = vocabSize;
        long seed = sampling.seed().isPresent() ? sampling.seed().getAsLong() : ThreadLocalRandom.current().nextLong();
        this.random = GENERATORS.create(seed);
        this.work = new float[vocabSize];
        this.probs = new float[vocabSize];
        this.topIds = new int[vocabSize];
        this.keys = new long[vocabSize];
        this.counts = new int[vocabSize];
        this.weights = new double[vocabSize];
    }

    public Sampling sampling() {
        return sampling;
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** {@link #sample(float[], int, TokenHistory)} of {@code logits[0, vocabSize)} with no history. */
    public int sample(float[] logits) {
        return sample(logits, 0, TokenHistory.EMPTY);
    }

    /**
     * The next token for the logits {@code logits[offset, offset + vocabSize)} (left unchanged),
     * given the tokens so far.
     *
     * @throws IllegalArgumentException when the row does not fit the array, or the history holds an
     *         id outside the vocabulary
     */
    public int sample(float[] logits, int offset, TokenHistory history) {
        if (offset < 0 || offset > logits.length - vocabSize) {
            throw new IllegalArgumentException("logits row at offset " + offset + " of " + vocabSize
                    + " values does not fit an array of " + logits.length);
        }
        System.arraycopy(logits, offset, work, 0, vocabSize);
        applyPenalties(work, history);
        if (sampling.isGreedy()) {
            return kernels.argmax(work, 0, vocabSize);
        }
        int count = filter();
        return count == ALL ? drawFromAll() : draw(count);
    }

    /**
     * Top-k, top-p and min-p over the penalised logits in {@code work}: leaves the candidates as
     * keys in {@code keys[0, count)} and returns count, or {@link #ALL} when no filter is set.
     */
    int filter() {
        boolean topK = sampling.topK() > 0 && sampling.topK() < vocabSize;
        boolean topP = sampling.topP() < 1;
        boolean minP = sampling.minP() > 0;
        if (!topK && !topP && !minP) {
            return ALL;
        }
        float maxLogit = work[kernels.argmax(work, 0, vocabSize)];
        int count;
        boolean sorted;
        if (topK) {
            count = selectTopK(sampling.topK());
            sorted = true;
        } else if (topP) {
            count = topPCandidates();
            sorted = false;
        } else {
            count = collectAtLeast((float) (maxLogit + Math.log(sampling.minP())));
            sorted = false;
        }
        if (topP) {
            count = topP(count, sorted, maxLogit);
            sorted = true;
        }
        if (minP) {
            count = minP(count, sorted, maxLogit);
        }
        return count;
    }
    /** The ids {@link #filter} keeps for {@code logits[0, vocabSize)} (no penalties), ascending. */
    int[] candidates(float[] logits) {
        System.arraycopy(logits, 0, work, 0, vocabSize);
        int count = filter();
        if (count == ALL) {
            return java.util.stream.IntStream.range(0, vocabSize).toArray();
        }
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            ids[i] = id(keys[i]);
        }
        java.util.Arrays.sort(ids);
        return ids;
    }

    /** Applies the repetition, frequency and presence penalties to {@code logits[0, vocabSize)}. */
    void applyPenalties(float[] logits, TokenHistory history) {
        if (!sampling.hasPenalties() || history.length() == 0) {
            return;
        }
        int start = Math.max(0, history.length() - sampling.penaltyWindow());
        int[] tokens = history.tokens();
        for (int i = start; i < history.length(); i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                throw new IllegalArgumentException("token history holds id " + tokens[i] + " at position " + i
                        + ", outside the vocabulary of " + vocabSize);
            }
        }
        for (int i = start; i < history.length(); i++) {
            counts[tokens[i]]++;
        }
        float repeat = (float) sampling.repetitionPenalty();
        float frequency = (float) sampling.frequencyPenalty();
        float presence = (float) sampling.presencePenalty();
        for (int i = start; i < history.length(); i++) {
            int id = tokens[i];
            int c = counts[id];
            if (c == 0) {
                continue; // already penalised
            }
            logits[id] = logits[id] <= 0 ? logits[id] * repeat : logits[id] / repeat;
            logits[id] -= c * frequency + presence;
            counts[id] = 0;
        }
    }

    /** The k largest logits (lower id first on ties) as keys in {@code keys[0, k)}, descending. */
    private int selectTopK(int k) {
        kernels.topK(work, 0, vocabSize, topIds, k);
        for (int i = 0; i < k; i++) {
            keys[i] = key(work[topIds[i]], topIds[i]);
        }
        return k;
    }

    /** Puts the keys of tokens with logit {@code >= floor} in {@code keys[0, count)}, in id order. */
    private int collectAtLeast(float floor) {
        int count = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (work[i] >= floor) {
                keys[count++] = key(work[i], i);
            }
        }
        return count;
    }

    /**
     * The softmax of every token into {@link #probs}, and as candidates the tokens that can be part
     * of the top-p set: tokens with probability under eps = (1 - p) / (2 nVocab) sum to less than
     * (1 - p) / 2, so the most likely ones reach p without them.
     */
    private int topPCandidates() {
        System.arraycopy(work, 0, probs, 0, vocabSize);
        kernels.softmax(probs, 0, vocabSize);
        float eps = (float) ((1 - sampling.topP()) / (2.0 * vocabSize));
        int count = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (probs[i] >= eps) {
                keys[count++] = key(work[i], i);
            }
        }
        return count;
    }

    /**
     * Keeps the most likely candidates until their probability (softmax over the top-k set when
     * {@code sorted}, i.e. after top-k, else {@link #probs} over all tokens) first reaches p; returns how many,
     * leaving them in {@code keys[0, count)} in descending order.
     */
    private int topP(int count, boolean sorted, float maxLogit) {
        double p = sampling.topP();
        if (sorted) {
            double sum = 0;
            for (int i = 0; i < count; i++) {
                sum += Math.exp(work[id(keys[i])] - maxLogit);
            }
            double cumulative = 0;
            for (int i = 0; i < count; i++) {
                cumulative += Math.exp(work[id(keys[i])] - maxLogit) / sum;
                if (cumulative >= p) {
                    return i + 1;
                }
            }
            return count;
        }
        // a max-heap popped in place: the m-th largest key lands in keys[count - m]
        LongHeap.buildMax(keys, count);
        double cumulative = 0;
        int kept = 0;
        while (kept < count) {
            int last = count - 1 - kept;
            long top = keys[0];
            keys[0] = keys[last];
            keys[last] = top;
            LongHeap.siftDownMax(keys, 0, last);
            kept++;
            cumulative += probs[id(top)];
            if (cumulative >= p) {
                break;
            }
        }
        // keys[count - kept, count) holds them ascending: move them to the front, descending
        for (int i = count - kept, j = count - 1; i < j; i++, j--) {
            long t = keys[i];
            keys[i] = keys[j];
            keys[j] = t;
        }
        System.arraycopy(keys, count - kept, keys, 0, kept);
        return kept;
    }

    /** Drops candidates with logit below {@code maxLogit + ln(minP)}, keeping order; returns the new count. */
    private int minP(int count, boolean sorted, float maxLogit) {
        double floor = maxLogit + Math.log(sampling.minP());
        int kept = 0;
        for (int i = 0; i < count; i++) {
            if (work[id(keys[i])] >= floor) {
                keys[kept++] = keys[i];
            } else if (sorted) {
                break;
            }
        }
        return Math.max(kept, 1);
    }

    /** One draw from softmax(logit / temperature) over the candidates {@code keys[0, count)}. */
    private int draw(int count) {
        double invTemperature = 1.0 / sampling.temperature();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < count; i++) {
            max = Math.max(max, work[id(keys[i])] * invTemperature);
        }
        double sum = 0;
        for (int i = 0; i < count; i++) {
            double w = Math.exp(work[id(keys[i])] * invTemperature - max);
            weights[i] = w;
            sum += w;
        }
        double target = random.nextDouble() * sum;
        double cumulative = 0;
        for (int i = 0; i < count; i++) {
            cumulative += weights[i];
            if (target < cumulative) {
                return id(keys[i]);
            }
        }
        return id(keys[count - 1]);
    }

    /** One draw from softmax(logit / temperature) over every token, in id order. */
    private int drawFromAll() {
        System.arraycopy(work, 0, probs, 0, vocabSize);
        if (sampling.temperature() != 1) {
            kernels.scale(probs, 0, vocabSize, (float) (1.0 / sampling.temperature()));
        }
        kernels.softmax(probs, 0, vocabSize);
        double sum = 0;
        for (int i = 0; i < vocabSize; i++) {
            sum += probs[i];
        }
        double target = random.nextDouble() * sum;
        double cumulative = 0;
        for (int i = 0; i < vocabSize; i++) {
            cumulative += probs[i];
            if (target < cumulative) {
                return i;
            }
        }
        return kernels.argmax(work, 0, vocabSize);
    }

    /**
     * A long that orders like (logit, then lower id first): the logit's bits made sortable as a
     * signed int in the high half, {@code 0xFFFFFFFF - id} in the low half.
     */
    static long key(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        bits ^= (bits >> 31) & 0x7FFFFFFF;
        return ((long) bits << 32) | (0xFFFFFFFFL - id);
    }

    static int id(long key) {
        return (int) (0xFFFFFFFFL - (key & 0xFFFFFFFFL));
    }

    /** An in-place binary max-heap of keys in {@code a[0, n)}, for top-p. */
    private static final class LongHeap {
        private LongHeap() {
        }

        static void buildMax(long[] a, int n) {
            for (int i = n / 2 - 1; i >= 0; i--) {
                siftDownMax(a, i, n);
            }
        }

        static void siftDownMax(long[] a, int i, int n) {
            long v = a[i];
            while (2 * i + 1 < n) {
                int child = 2 * i + 1;
                if (child + 1 < n && a[child + 1] > a[child]) {
                    child++;
                }
                if (a[child] <= v) {
                    break;
                }
                a[i] = a[child];
                i = child;
            }
            a[i] = v;
        }
    }
}
