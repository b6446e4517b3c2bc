package dev.taipan.runtime.sampling;

import dev.taipan.runtime.Sampling;
import java.util.Objects;
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
 * run (not llama.cpp's, whose generator is mt19937).
 *
 * <p>Buffers for the vocabulary size are allocated once; {@link #sample} allocates nothing.
 * Not thread-safe: one per session.
 */
public final class Sampler {
    private final Sampling sampling;
    private final int vocabSize;
    private final RandomGenerator random;
    private final float[] work;     // (vocabSize) penalised logits
    private final long[] keys;      // (vocabSize) candidates as sortable (logit, id) keys, see key()
    private final int[] counts;     // (vocabSize) occurrences in the penalty window, zero between calls
    private final double[] weights; // (vocabSize) softmax numerators of the candidates

    /** A sampler for rows of {@code vocabSize} logits. */
    public Sampler(Sampling sampling, int vocabSize) {
        this.sampling = Objects.requireNonNull(sampling, "sampling");
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        }
        this.vocabSize = vocabSize;
        long seed = sampling.seed().isPresent() ? sampling.seed().getAsLong()
                : RandomGeneratorFactory.getDefault().create().nextLong();
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
        this.work = new float[vocabSize];
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
            return argmax(work, vocabSize);
        }
        // candidates as keys; kept ones end up in keys[from, to)
        for (int i = 0; i < vocabSize; i++) {
            keys[i] = key(work[i], i);
        }
        int from = 0;
        int to = vocabSize;
        boolean sorted = false;
        boolean topK = sampling.topK() > 0 && sampling.topK() < vocabSize;
        boolean topP = sampling.topP() < 1;
        if (topK || topP) {
            // a max-heap popped in place: the i-th largest key lands in keys[vocabSize - 1 - i]
            Heap.build(keys, vocabSize);
            int popped = 0;
            if (topK) {
                popped = Heap.popLargest(keys, vocabSize, popped, sampling.topK());
                from = vocabSize - popped;
            }
            if (topP) {
                popped = topPCount(popped, topK);
                from = vocabSize - popped;
            }
            Reverse.range(keys, from, to);
            sorted = true;
        }
        if (sampling.minP() > 0) {
            to = minP(from, to, sorted);
        }
        return draw(from, to);
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

    /** The index of the largest value, the first one on ties. */
    static int argmax(float[] values, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Pops keys from the heap in descending order until their softmax probabilities (over the
     * top-k set when {@code topK}, else over every token) first reach p; returns how many are kept.
     */
    private int topPCount(int popped, boolean topK) {
        double max;
        double sum = 0;
        if (topK) {
            max = work[id(keys[vocabSize - 1])];
            for (int i = vocabSize - popped; i < vocabSize; i++) {
                sum += Math.exp(work[id(keys[i])] - max);
            }
        } else {
            max = work[argmax(work, vocabSize)];
            for (int i = 0; i < vocabSize; i++) {
                sum += Math.exp(work[i] - max);
            }
        }
        int limit = topK ? popped : vocabSize;
        double cumulative = 0;
        for (int i = 0; i < limit; i++) {
            if (i == popped) {
                popped = Heap.popLargest(keys, vocabSize, popped, 1);
            }
            cumulative += Math.exp(work[id(keys[vocabSize - 1 - i])] - max) / sum;
            if (cumulative >= sampling.topP()) {
                return i + 1;
            }
        }
        return limit;
    }

    /** Drops candidates with logit below {@code maxLogit + ln(minP)}, keeping order; returns the new end. */
    private int minP(int from, int to, boolean sorted) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            max = Math.max(max, work[id(keys[i])]);
        }
        double threshold = max + Math.log(sampling.minP());
        int kept = from;
        for (int i = from; i < to; i++) {
            if (work[id(keys[i])] >= threshold) {
                keys[kept++] = keys[i];
            } else if (sorted) {
                break;
            }
        }
        return Math.max(kept, from + 1);
    }

    /** One draw from softmax(logit / temperature) over the candidates {@code keys[from, to)}. */
    private int draw(int from, int to) {
        double invTemperature = 1.0 / sampling.temperature();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
            max = Math.max(max, work[id(keys[i])] * invTemperature);
        }
        double sum = 0;
        for (int i = from; i < to; i++) {
            double w = Math.exp(work[id(keys[i])] * invTemperature - max);
            weights[i] = w;
            sum += w;
        }
        double target = random.nextDouble() * sum;
        double cumulative = 0;
        for (int i = from; i < to; i++) {
            cumulative += weights[i];
            if (target < cumulative) {
                return id(keys[i]);
            }
        }
        return id(keys[to - 1]);
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

    /** An in-place binary max-heap over {@code keys[0, n)}, popped from the back (heapsort). */
    private static final class Heap {
        private Heap() {
        }

        static void build(long[] a, int n) {
            for (int i = n / 2 - 1; i >= 0; i--) {
                siftDown(a, i, n);
            }
        }

        /**
         * Moves up to {@code more} of the largest remaining keys behind the heap; the heap holds
         * {@code a[0, n - popped)}. Returns the new popped count.
         */
        static int popLargest(long[] a, int n, int popped, int more) {
            int target = Math.min(n, popped + more);
            while (popped < target) {
                int last = n - 1 - popped;
                long top = a[0];
                a[0] = a[last];
                a[last] = top;
                popped++;
                siftDown(a, 0, last);
            }
            return popped;
        }

        private static void siftDown(long[] a, int i, int n) {
            long v = a[i];
            while (true) {
                int child = 2 * i + 1;
                if (child >= n) {
                    break;
                }
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

    /** Reverses {@code a[from, to)} so the popped keys read largest first. */
    private static final class Reverse {
        private Reverse() {
        }

        static void range(long[] a, int from, int to) {
            for (int i = from, j = to - 1; i < j; i++, j--) {
                long t = a[i];
                a[i] = a[j];
                a[j] = t;
            }
        }
    }
}
