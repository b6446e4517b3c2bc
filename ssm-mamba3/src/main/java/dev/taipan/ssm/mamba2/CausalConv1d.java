package dev.taipan.ssm.mamba2;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The short causal depthwise convolution of Mamba-1 and Mamba-2, with its per-session state: the
 * last {@code dConv - 1} inputs of every channel. Follows ggml's {@code ggml_ssm_conv} (ggml-cpu
 * ops.cpp, llama.cpp 34af94cd) and the concat/copy-back around it in {@code build_mamba_layer} /
 * {@code build_mamba2_layer}: for token t and channel c,
 * <pre>
 * out[t][c] = (sum_{i &lt; dConv} window[c][t + i] * w[c][i]) + bias[c]
 * </pre>
 * where {@code window[c]} is the state of channel c followed by the batch's inputs; the sum runs
 * in float in the order of i, as ggml does. The state then keeps the last {@code dConv - 1}
 * columns of the window.
 *
 * <p>Weights are in ggml layout {@code {dConv, channels}}: {@code w[c * dConv + i]}. The state is
 * column-major, {@code state[j * channels + c]} for column {@code j} (oldest first), so that the
 * one-token step of decode reads and shifts whole columns with vector loads across channels; it
 * keeps the weights tap-major ({@code channels * dConv} floats, copied once) for the same reason.
 * One loop serves a batch, part of a batch and decode's single token: a Vector API loop across
 * channels (a product, then an add, per tap, in tap order), compared in tests with a scalar
 * transcription of ggml_ssm_conv. Immutable; the state is the caller's.
 */
public final class CausalConv1d {
    private final int channels;
    private final int dConv;
    private final float[] bias;   // (channels) or null
    private final float[] taps;   // (dConv, channels): taps[i * channels + c] = weight[c * dConv + i]
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public CausalConv1d(int channels, int dConv, float[] weight, float[] bias) {
        if (channels < 1 || dConv < 2) {
            throw new IllegalArgumentException("conv1d: channels " + channels + " and kernel " + dConv
                    + " must be >= 1 and >= 2");
        }
        if (weight.length != channels * dConv) {
            throw new IllegalArgumentException("conv1d: weight has " + weight.length + " values, expected "
                    + channels + " x " + dConv);
        }
        if (bias != null && bias.length != channels) {
            throw new IllegalArgumentException("conv1d: bias has " + bias.length + " values, expected " + channels);
        }
        this.channels = channels;
        this.dConv = dConv;
        this.bias = bias;
        this.taps = new float[channels * dConv];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < dConv; i++) {
                taps[i * channels + c] = weight[c * dConv + i];
            }
        }
    }

    public int channels() {
        return channels;
    }

    public int kernel() {
        return dConv;
    }

    /** Floats of state one session holds: {@code channels * (dConv - 1)}. */
    public int stateSize() {
        return channels * (dConv - 1);
    }

    /**
     * Convolves {@code nTokens} rows and advances the state.
     *
     * @param out   receives row t at {@code out[t * channels ..]} (contiguous rows)
     * @param in    row t starts at {@code in[inOff + t * inStride]}
     * @param state {@link #stateSize()} floats, updated in place
     */
    public void apply(float[] out, float[] in, int inOff, int inStride, int nTokens, float[] state) {
        convolve(out, in, inOff, inStride, 0, nTokens, state);
        advance(in, inOff, inStride, nTokens, state);
    }

    /**
     * Rows {@code [t0, t1)} of a batch call's output ({@link #apply} without the state update, so that
     * threads can share a batch's tokens), a vector of channels at a time (scalar tail): for each
     * channel the sum over the taps in order, a product then an add per tap, then the bias.
     */
    public void convolve(float[] out, float[] in, int inOff, int inStride, int t0, int t1, float[] state) {
        convolve(out, in, inOff, inStride, t0, t1, state, 0, channels);
    }

    /**
     * One token's step for channels {@code [c0, c1)} only ({@link #apply} of one row restricted to
     * them: output and state update), so that threads can share a token's channels. Every channel's
     * value is computed as by {@link #apply} (a product then an add per tap, the same in the vector
     * loop and its scalar tail), so the channels of several calls equal one call's.
     */
    public void step(float[] out, float[] in, int inOff, float[] state, int c0, int c1) {
        java.util.Objects.checkFromToIndex(c0, c1, channels);
        convolve(out, in, inOff, 0, 0, 1, state, c0, c1);
        int hist = dConv - 1;
        for (int k = 0; k < hist; k++) {
            int m = 1 + k; // column in [state | input]
            if (m < hist) {
                System.arraycopy(state, m * channels + c0, state, k * channels + c0, c1 - c0);
            } else {
                System.arraycopy(in, inOff + c0, state, k * channels + c0, c1 - c0);
            }
        }
    }

    private void convolve(float[] out, float[] in, int inOff, int inStride, int t0, int t1, float[] state,
            int c0, int c1) {
        int hist = dConv - 1;
        int n = channels;
        int lanes = S.length();
        for (int t = t0; t < t1; t++) {
            int o = t * n;
            int c = c0;
            for (; c <= c1 - lanes; c += lanes) {
                FloatVector sum = FloatVector.zero(S);
                for (int i = 0; i < dConv; i++) {
                    int j = t + i - hist; // index in the batch; negative: in the state
                    FloatVector v = j < 0 ? FloatVector.fromArray(S, state, (hist + j) * n + c)
                            : FloatVector.fromArray(S, in, inOff + j * inStride + c);
                    sum = v.mul(FloatVector.fromArray(S, taps, i * n + c)).add(sum);
                }
                if (bias != null) {
                    sum = FloatVector.fromArray(S, bias, c).add(sum);
                }
                sum.intoArray(out, o + c);
            }
            for (; c < c1; c++) {
                float sum = 0f;
                for (int i = 0; i < dConv; i++) {
                    int j = t + i - hist;
                    float v = j < 0 ? state[(hist + j) * n + c] : in[inOff + j * inStride + c];
                    sum += v * taps[i * n + c];
                }
                out[o + c] = bias == null ? sum : sum + bias[c];
            }
        }
    }

    /** The state after a batch call of {@code nTokens} rows: the last {@code dConv - 1} columns of [state | inputs]. */
    public void advance(float[] in, int inOff, int inStride, int nTokens, float[] state) {
        int hist = dConv - 1;
        // column k from column nTokens + k: in increasing k, a state column is read before it is overwritten
        for (int k = 0; k < hist; k++) {
            int m = nTokens + k; // column in [state | inputs]
            if (m < hist) {
                System.arraycopy(state, m * channels, state, k * channels, channels);
            } else {
                int row = inOff + (m - hist) * inStride;
                System.arraycopy(in, row, state, k * channels, channels);
            }
        }
    }
}
