package dev.taipan.ssm.mamba2;

import dev.taipan.tensor.BlockState;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.RunOnce;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Per-session state of one {@link Mamba2Mixer}: the recurrent cache (convolution history and SSM
 * state, a fixed size whatever the number of tokens seen) plus the scratch activations of one
 * batch of at most {@code maxBatch} tokens, all allocated once.
 */
public final class Mamba2State implements BlockState {
    final Mamba2Mixer owner;
    final int maxBatch;
    /** (convDim, dConv - 1) last inputs of the convolution per channel, oldest first. */
    final float[] conv;
    /** (nHeads, headDim, dState) SSM state h. */
    final float[] ssm;
    /** (maxBatch, inProjDim) in-projection [z | xBC | dt]; z is overwritten by the gated output. */
    final float[] proj;
    /** (maxBatch, convDim) silu(conv(xBC)): x, B, C per token. */
    final float[] xbc;
    /** (maxBatch, nHeads) softplus(dt + dt_bias). */
    final float[] dt;
    /** (maxBatch, nHeads) exp(dt * A). */
    final float[] decay;
    /** (maxBatch, dInner) scan output y, then the normed gated output. */
    final float[] y;
    /** Tokens of the call in progress, read by {@link #scanTask}. */
    int callTokens;
    /** Scans heads [start, end) over the call's tokens; created once so decoding allocates nothing. */
    final Parallel.RangeTask scanTask;

    // Decode: the layer's one pass (Mamba2Mixer#decodePart), its input and output, and its units
    // that run once, per slice q: in-projection rows of xBC and dt, of z; conv of the slice's
    // channels; scan and gate of its heads; then the norm.
    float[] decodeX;
    float[] decodeOut;
    final Parallel.SlicePartTask decodeTask;
    final RunOnce xbcRows;
    final RunOnce zRows;
    final RunOnce convs;
    final RunOnce scans;
    final RunOnce norm;
    final IntConsumer xbcTask;
    final IntConsumer zTask;
    final IntConsumer convTask;
    final IntConsumer scanGateTask;
    final IntConsumer normTask;

    Mamba2State(Mamba2Mixer owner, Mamba2Config c, int maxBatch, int threads) {
        this.owner = owner;
        this.maxBatch = maxBatch;
        this.conv = new float[c.convDim() * (c.dConv() - 1)];
        this.ssm = new float[c.nHeads() * c.headDim() * c.dState()];
        this.proj = new float[maxBatch * c.inProjDim()];
        this.xbc = new float[maxBatch * c.convDim()];
        this.dt = new float[maxBatch * c.nHeads()];
        this.decay = new float[maxBatch * c.nHeads()];
        this.y = new float[maxBatch * c.dInner()];
        this.scanTask = (start, end) -> owner.scanHeads(this, start, end);
        this.decodeTask = (slice, part) -> owner.decodePart(this, slice, part);
        this.xbcRows = new RunOnce(threads);
        this.zRows = new RunOnce(threads);
        this.convs = new RunOnce(threads);
        this.scans = new RunOnce(threads);
        this.norm = new RunOnce(1);
        this.xbcTask = q -> owner.decodeXbcRows(this, q);
        this.zTask = q -> owner.decodeZRows(this, q);
        this.convTask = q -> owner.decodeConv(this, q);
        this.scanGateTask = q -> owner.decodeScanGate(this, q);
        this.normTask = unit -> owner.decodeNorm(this);
    }

    /** The convolution history, column-major (dConv - 1, convDim), oldest column first; live view for tests and state dumps. */
    public float[] convState() {
        return conv;
    }

    /** The SSM state, (nHeads, headDim, dState); live view for tests and state dumps. */
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
