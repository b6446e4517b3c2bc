package dev.taipan.ssm.mamba2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link CausalConv1d}: a batch call, the same batch split into ranges of tokens, the one-token path
 * of decode and a direct scalar transcription of ggml_ssm_conv (window = [state | inputs], sum in
 * tap order) give the same floats bit for bit, on 37 channels (whole vectors and a tail), and the
 * state afterwards holds the last {@code dConv - 1} columns of [state | inputs] of every channel.
 */
class CausalConv1dTest {

    /** ggml_ssm_conv written out: token t, channel c sums window[c][t + i] * w[c][i] for i in order. */
    private static float[][] reference(float[][] rows, float[] state0, float[] w, float[] bias, int channels, int dConv) {
        int hist = dConv - 1;
        float[][] out = new float[rows.length][channels];
        for (int c = 0; c < channels; c++) {
            float[] window = new float[hist + rows.length];
            for (int k = 0; k < hist; k++) {
                window[k] = state0[k * channels + c]; // column-major state
            }
            for (int t = 0; t < rows.length; t++) {
                window[hist + t] = rows[t][c];
            }
            for (int t = 0; t < rows.length; t++) {
                float sum = 0f;
                for (int i = 0; i < dConv; i++) {
                    sum += window[t + i] * w[c * dConv + i];
                }
                out[t][c] = bias == null ? sum : sum + bias[c];
            }
        }
        return out;
    }

    @Test
    void batchAndOneTokenStepsEqualTheReferenceBitForBit() {
        for (int dConv : new int[] {2, 4, 5}) {
            for (boolean withBias : new boolean[] {true, false}) {
                // 2 tokens: fewer than the history columns of dConv 4 and 5
                for (int tokens : new int[] {2, 9}) {
                    checkBatchAndSteps(dConv, withBias, tokens);
                }
            }
        }
    }

    private static void checkBatchAndSteps(int dConv, boolean withBias, int tokens) {
        String what = "dConv " + dConv + ", bias " + withBias + ", " + tokens + " tokens";
        int channels = 37; // two 16-lane vectors and a tail
        int stride = channels + 4; // rows interleaved with other values, as in the in-projection
        int off = 3;
        Random r = new Random(dConv * 31L + (withBias ? 1 : 0) + 7L * tokens);
        float[] w = gauss(r, channels * dConv);
        float[] bias = withBias ? gauss(r, channels) : null;
        float[] state0 = gauss(r, channels * (dConv - 1));
        float[] in = gauss(r, off + tokens * stride);
        float[][] rows = new float[tokens][channels];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(in, off + t * stride, rows[t], 0, channels);
        }
        CausalConv1d conv = new CausalConv1d(channels, dConv, w, bias);
        float[][] want = reference(rows, state0, w, bias, channels, dConv);

        float[] batchState = state0.clone();
        float[] batchOut = new float[tokens * channels];
        conv.apply(batchOut, in, off, stride, tokens, batchState);

        float[] stepState = state0.clone();
        float[] stepOut = new float[channels];
        for (int t = 0; t < tokens; t++) {
            conv.apply(stepOut, in, off + t * stride, stride, 1, stepState);
            assertArrayEquals(want[t], stepOut, 0f, "one-token step, token " + t + ", " + what);
            assertArrayEquals(want[t], Arrays.copyOfRange(batchOut, t * channels, (t + 1) * channels), 0f,
                    "batch, token " + t + ", " + what);
        }
        assertArrayEquals(batchState, stepState, 0f, "state after the batch and after the steps, " + what);
        int hist = dConv - 1;
        for (int c = 0; c < channels; c++) {
            for (int k = 0; k < hist; k++) {
                // column k of the new state is column tokens + k of [state | inputs]
                int m = tokens + k;
                float v = m < hist ? state0[m * channels + c] : rows[m - hist][c];
                assertEquals(v, stepState[k * channels + c], "state of channel " + c + ", column " + k + ", " + what);
            }
        }
        // the batch's rows in two calls of convolve (as threads split them), then the state advanced
        float[] splitState = state0.clone();
        float[] splitOut = new float[tokens * channels];
        conv.convolve(splitOut, in, off, stride, 1, tokens, splitState);
        conv.convolve(splitOut, in, off, stride, 0, 1, splitState);
        assertArrayEquals(state0, splitState, 0f, "convolve leaves the state, " + what);
        conv.advance(in, off, stride, tokens, splitState);
        assertArrayEquals(batchOut, splitOut, 0f, "convolve in two ranges, " + what);
        assertArrayEquals(batchState, splitState, 0f, "advance, " + what);
        // one token at a time in channel ranges (as threads split a token's channels): ranges that
        // cut a vector, a range of one channel, the tail
        int[] cuts = {0, 5, 6, 21, channels};
        float[] rangeState = state0.clone();
        float[] rangeOut = new float[channels];
        for (int t = 0; t < tokens; t++) {
            for (int k = cuts.length - 2; k >= 0; k--) {
                conv.step(rangeOut, in, off + t * stride, rangeState, cuts[k], cuts[k + 1]);
            }
            assertArrayEquals(want[t], rangeOut, 0f, "steps in channel ranges, token " + t + ", " + what);
        }
        assertArrayEquals(batchState, rangeState, 0f, "state after steps in channel ranges, " + what);
    }

    private static float[] gauss(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
