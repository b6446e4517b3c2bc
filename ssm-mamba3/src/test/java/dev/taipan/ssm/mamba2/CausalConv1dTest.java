package dev.taipan.ssm.mamba2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link CausalConv1d}: a batch call, the one-token path of decode and a direct transcription of
 * ggml_ssm_conv (window = [state | inputs], sum in tap order) give the same floats bit for bit,
 * and the state afterwards holds the last {@code dConv - 1} inputs of every channel.
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
                int channels = 37; // two 16-lane vectors and a tail
                int tokens = 9;
                int stride = channels + 4; // rows interleaved with other values, as in the in-projection
                int off = 3;
                Random r = new Random(dConv * 31L + (withBias ? 1 : 0));
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
                    assertArrayEquals(want[t], stepOut, 0f, "one-token step, token " + t + ", dConv " + dConv);
                    assertArrayEquals(want[t], Arrays.copyOfRange(batchOut, t * channels, (t + 1) * channels), 0f,
                            "batch, token " + t + ", dConv " + dConv);
                }
                assertArrayEquals(batchState, stepState, 0f, "state after the batch and after the steps");
                for (int c = 0; c < channels; c++) {
                    for (int k = 0; k < dConv - 1; k++) {
                        assertEquals(rows[tokens - (dConv - 1) + k][c], stepState[k * channels + c],
                                "state of channel " + c + ", column " + k);
                    }
                }
            }
        }
    }

    private static float[] gauss(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
