package dev.taipan.ssm.mamba1;

import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Parallel;
import java.util.Arrays;

/**
 * Per-session state of one {@link Mamba1Mixer}: the recurrent cache (convolution history and SSM
 * state, a fixed size whatever the number of tokens seen) plus the scratch activations of one
 * batch of at most {@code maxBatch} tokens, all allocated once.
 */
public final class Mamba1State implements BlockState {
    final Mamba1Mixer owner;
    final int maxBatch;
    /** (dInner, dConv - 1) last inputs of the convolution per channel, oldest first. */
    final float[] conv;
    /** (dInner, dState) SSM state h. */
    final float[] ssm;
    /** (maxBatch, 2 * dInner) in-projection [x | z]; z is overwritten by the gated output. */
    final float[] proj;
    /** (maxBatch, dInner) silu(conv(x)). */
    final float[] xc;
    /** (maxBatch, dtRank + 2 * dState) x-projection [dt | B | C], normed in place. */
    final float[] xdb;
    /** (maxBatch, dtRank) the low-rank dt, contiguous for its projection. */
    final float[] dtLow;
    /** (maxBatch, dInner) dt, then softplus(dt + dt_bias). */
    final float[] dt;
    /** (dInner, dState) exp(dt * A) of the token being scanned, one row per channel. */
    final float[] decay;
    /** (maxBatch, dInner) scan output, then the gated output. */
    final float[] y;
    /** Tokens of the call in progress, read by {@link #scanTask}. */
    int callTokens;
    /** Scans channels [start, end) over the call's tokens; created once so decoding allocates nothing. */
    final Parallel.RangeTask scanTask;

    Mamba1State(Mamba1Mixer owner, Mamba1Config c, int maxBatch) {
        this.owner = owner;
        this.maxBatch = maxBatch;
        this.conv = new float[c.dInner() * (c.dConv() - 1)];
        this.ssm = new float[c.dInner() * c.dState()];
        this.proj = new float[maxBatch * 2 * c.dInner()];
        this.xc = new float[maxBatch * c.dInner()];
        this.xdb = new float[maxBatch * c.xProjDim()];
        this.dtLow = new float[maxBatch * c.dtRank()];
        this.dt = new float[maxBatch * c.dInner()];
        this.decay = new float[c.dInner() * c.dState()];
        this.y = new float[maxBatch * c.dInner()];
        this.scanTask = (start, end) -> owner.scanChannels(this, start, end);
    }

    /** The convolution history, column-major (dConv - 1, dInner), oldest column first; live view for tests and state dumps. */
    public float[] convState() {
        return conv;
    }

    /** The SSM state, (dInner, dState); live view for tests and state dumps. */
    public float[] ssmState() {
        return ssm;
    }

    @Override
    public long cacheBytes() {
        return 4L * (conv.length + ssm.length);
    }

    @Override
    public void reset() {
        Arrays.fill(conv, 0f);
        Arrays.fill(ssm, 0f);
    }
}
