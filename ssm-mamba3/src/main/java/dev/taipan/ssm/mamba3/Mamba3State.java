package dev.taipan.ssm.mamba3;

import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.util.Arrays;

/**
 * Per-session state of a {@link Mamba3Mixer}: exactly the recurrent state of mamba3.py's
 * {@code allocate_inference_cache} (angle, ssm, k and v states), whose size does not depend on
 * the number of tokens seen, plus scratch buffers sized once for the session's largest batch.
 * Only the four recurrent arrays count in {@link #cacheBytes()}.
 */
public final class Mamba3State implements BlockState {
    final Mamba3Config config;
    /** (H, S) cumulative rotation angles θ, kept in [0, 2π). */
    final float[] angle;
    /** (H, P, N) SSM state h. */
    final float[] ssm;
    /** (H, R, N) rotated, biased B of the previous token (k_state; the reference stores it (R, H, N)). */
    final float[] kPrev;
    /** (H, P) x of the previous token (v_state). */
    final float[] xPrev;

    /** (maxBatch, dInProj) in_proj output, preprocessed in place. */
    final float[] proj;
    /** (maxBatch, H) DT, A·DT and λ per token and head. */
    final float[] dt;
    final float[] adt;
    final float[] lambda;
    /** (maxBatch, dInner) gated y, the input of out_proj. */
    final float[] gated;
    /** One scratch set per head, so heads run in parallel without sharing. */
    final HeadScratch[] heads;
    final int chunk;
    /** The mixer that made this state (its weights are the only ones this state may meet). */
    Mamba3Mixer owner;
    /** The mixer's per-head scan over this state (made once, so a forward call allocates nothing). */
    Parallel.RangeTask scan;
    /** Tokens of the call in progress. */
    int batch;

    Mamba3State(Mamba3Config c, SessionLimits limits) {
        this.config = c;
        int h = c.nHeads();
        int n = c.dState();
        int p = c.headDim();
        int r = c.mimoRank();
        angle = new float[h * c.nAngles()];
        ssm = new float[h * p * n];
        kPrev = new float[h * r * n];
        xPrev = new float[h * p];
        int batch = limits.maxBatch();
        proj = new float[batch * c.dInProj()];
        dt = new float[batch * h];
        adt = new float[batch * h];
        lambda = new float[batch * h];
        gated = new float[batch * c.dInner()];
        chunk = Math.min(c.chunkSize(), batch);
        heads = new HeadScratch[h];
        for (int i = 0; i < h; i++) {
            heads[i] = new HeadScratch(c, chunk);
        }
    }

    @Override
    public long cacheBytes() {
        return 4L * (angle.length + ssm.length + kPrev.length + xPrev.length);
    }

    @Override
    public void reset() {
        Arrays.fill(angle, 0f);
        Arrays.fill(ssm, 0f);
        Arrays.fill(kPrev, 0f);
        Arrays.fill(xPrev, 0f);
    }

    /** Copy of the angle state, (H, S), in [0, 2π). */
    public float[] angleState() {
        return angle.clone();
    }

    /** Copy of the SSM state, (H, P, N). */
    public float[] ssmState() {
        return ssm.clone();
    }

    /** Copy of the k state in the reference layout (R, H, N). */
    public float[] kState() {
        int h = config.nHeads();
        int r = config.mimoRank();
        int n = config.dState();
        float[] out = new float[kPrev.length];
        for (int head = 0; head < h; head++) {
            for (int rank = 0; rank < r; rank++) {
                System.arraycopy(kPrev, (head * r + rank) * n, out, (rank * h + head) * n, n);
            }
        }
        return out;
    }

    /** Copy of the v state, (H, P). */
    public float[] vState() {
        return xPrev.clone();
    }

    /** Buffers one head needs while it scans a chunk of tokens. */
    static final class HeadScratch {
        final float[] q;      // (chunk, R, N) rotated, biased C
        final float[] k;      // (chunk, R, N) rotated, biased B
        final float[] v;      // (chunk, R, P) x, MIMO-projected per rank
        final float[] y;      // (chunk, R, P) SSM output before the gate
        final float[] cs;     // (chunk) cumulative A·DT inside the chunk
        final float[] decay;  // (chunk) e^{cs}
        final float[] weight; // (chunk) DT weight of each token's own k v term in the chunk's final state
        final float[] vPrev;  // (R, P) previous token's x, MIMO-projected
        final float[] cos;    // (S)
        final float[] sin;    // (S)
        final float[] gate;   // (P)
        final float[] tmp;    // (P)

        HeadScratch(Mamba3Config c, int chunk) {
            int rn = c.mimoRank() * c.dState();
            int rp = c.mimoRank() * c.headDim();
            q = new float[chunk * rn];
            k = new float[chunk * rn];
            v = new float[chunk * rp];
            y = new float[chunk * rp];
            cs = new float[chunk];
            decay = new float[chunk];
            weight = new float[chunk];
            vPrev = new float[rp];
            cos = new float[c.nAngles()];
            sin = new float[c.nAngles()];
            gate = new float[c.headDim()];
            tmp = new float[c.headDim()];
        }
    }
}
