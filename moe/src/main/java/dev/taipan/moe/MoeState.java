package dev.taipan.moe;

import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.RunOnce;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Per-session state of one {@link SparseMoe} layer: preallocated scratch and the routing
 * statistics of this layer (how often each expert was chosen, in total and in the last call).
 * Nothing is carried between calls except the statistics, so {@link #cacheBytes()} is 0.
 */
public final class MoeState implements BlockState {
    final SparseMoe owner;
    final int maxBatch;

    // Routing scratch.
    final float[] logits;     // (maxBatch, nExpert)
    final int[] selected;     // (maxBatch, nExpertUsed) expert ids, best first
    final float[] weights;    // (maxBatch, nExpertUsed)
    final float[] probs;      // (nExpert)
    final float[] selection;  // (nExpert)
    final int[] topIdx;       // (nExpertUsed)
    final int[] top2;         // (2)
    final float[] groupScores; // (nGroup)
    final int[] groupIdx;     // (topkGroup)
    final boolean[] keepGroup; // (nGroup)

    // Expert scratch.
    final float[] gathered;   // (maxBatch, dim) rows routed to one expert
    final float[] gate;       // (max(maxBatch, nExpertUsed), ff)
    final float[] up;         // (max(maxBatch, nExpertUsed), ff)
    final float[] expertOut;  // (maxBatch, dim)
    final int[] assignments;  // (maxBatch * nExpertUsed) entries t * k + j grouped by expert
    final int[] expertStart;  // (nExpert + 1) offsets into assignments
    final int[] cursor;       // (nExpert)
    final DenseFfn.Scratch sharedScratch; // or null
    final float[] sharedOut;  // (maxBatch, dim) or empty
    final float[] downRows;   // (nExpertUsed + 1, dim) one token: each expert's down rows, then the shared one

    // Decode: the token being processed, read by the tasks below.
    float[] decodeX;
    float[] decodeOut;
    float sharedGateValue; // sigmoid(sharedGate · x), or 1 when ungated
    final Parallel.SlicePartTask decodeUpTask;
    final Parallel.SlicePartTask decodeDownTask;
    final IntConsumer decodeDownSum;
    /**
     * The one-token pass of whole experts per thread, and its units that run once: the slices of the
     * router's rows, the routing, the slices of the shared expert's gate/up rows.
     */
    final Parallel.SlicePartTask decodeFusedTask;
    final IntConsumer routerRowsTask;
    final IntConsumer routeTask;
    final IntConsumer sharedUpTask;
    final RunOnce routerRows;
    final RunOnce routed;
    final RunOnce sharedUp;

    // Statistics.
    private final long[] counts;     // (nExpert) selections since the last reset
    private final int[] lastCounts;  // (nExpert) selections in the last call
    private long tokens;
    private int lastTokens;

    MoeState(SparseMoe owner, int maxBatch, Sizes z, DenseFfn.Scratch sharedScratch, int threads) {
        this.owner = owner;
        this.maxBatch = maxBatch;
        int k = z.nExpertUsed();
        this.logits = new float[size((long) maxBatch * z.nExpert())];
        this.selected = new int[size((long) maxBatch * k)];
        this.weights = new float[selected.length];
        this.probs = new float[z.nExpert()];
        this.selection = new float[z.nExpert()];
        this.topIdx = new int[k];
        this.top2 = new int[2];
        this.groupScores = new float[Math.max(z.nGroup(), 1)];
        this.groupIdx = new int[Math.max(z.nGroup(), 1)];
        this.keepGroup = new boolean[Math.max(z.nGroup(), 1)];
        this.gathered = new float[size((long) maxBatch * z.dim())];
        long hidden = (long) Math.max(maxBatch, k) * z.ff();
        this.gate = z.gated() ? new float[size(hidden)] : new float[0];
        this.up = new float[size(hidden)];
        this.expertOut = new float[gathered.length];
        this.assignments = new int[selected.length];
        this.expertStart = new int[z.nExpert() + 1];
        this.cursor = new int[z.nExpert()];
        this.sharedScratch = sharedScratch;
        this.sharedOut = sharedScratch == null ? new float[0] : new float[gathered.length];
        this.downRows = new float[size((long) (k + 1) * z.dim())];
        this.decodeUpTask = (slice, part) -> owner.decodeUpPart(this, slice, part);
        this.decodeDownTask = (slice, part) -> owner.decodeDownPart(this, slice, part);
        this.decodeDownSum = slice -> owner.decodeDownSum(this, slice);
        this.decodeFusedTask = (slice, part) -> owner.decodeFusedPart(this, slice, part);
        this.routerRowsTask = slice -> owner.decodeRouterRows(this, slice);
        this.routeTask = unit -> owner.decodeRoute(this);
        this.sharedUpTask = slice -> owner.decodeSharedUp(this, slice);
        this.routerRows = new RunOnce(threads);
        this.routed = new RunOnce(1);
        this.sharedUp = new RunOnce(threads);
        this.counts = new long[z.nExpert()];
        this.lastCounts = new int[z.nExpert()];
    }

    /** Sizes the state is allocated for. */
    record Sizes(int dim, int ff, int nExpert, int nExpertUsed, int nGroup, boolean gated) {
    }

    private static int size(long n) {
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("moe: scratch of " + n + " values is too large; lower the batch size");
        }
        return (int) n;
    }

    /** Counts the experts chosen for the {@code nTokens} tokens just routed. */
    void record(int nTokens) {
        Arrays.fill(lastCounts, 0);
        int n = nTokens * topIdx.length;
        for (int i = 0; i < n; i++) {
            lastCounts[selected[i]]++;
        }
        for (int e = 0; e < counts.length; e++) {
            counts[e] += lastCounts[e];
        }
        tokens += nTokens;
        lastTokens = nTokens;
    }

    /** How often each expert was chosen since this state was created or its statistics reset. */
    public long[] expertCounts() {
        return counts.clone();
    }

    /** How often each expert was chosen in the last forward call. */
    public int[] lastCallCounts() {
        return lastCounts.clone();
    }

    /** Tokens routed since this state was created or its statistics reset. */
    public long routedTokens() {
        return tokens;
    }

    /**
     * The experts chosen for each token of the last forward call: {@code nTokens * nExpertUsed}
     * ids, token-major, each token's best expert first.
     */
    public int[] lastSelection() {
        return Arrays.copyOf(selected, lastTokens * topIdx.length);
    }

    /** Clears the statistics. */
    public void resetStats() {
        Arrays.fill(counts, 0);
        Arrays.fill(lastCounts, 0);
        tokens = 0;
        lastTokens = 0;
    }

    @Override
    public long cacheBytes() {
        return 0;
    }

    /** A fresh state has no statistics. */
    @Override
    public void reset() {
        resetStats();
    }
}
