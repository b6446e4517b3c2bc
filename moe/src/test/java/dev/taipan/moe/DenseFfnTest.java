package dev.taipan.moe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Shape;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** DenseFfn against the reference FFN of {@link NaiveMoe}, for each activation. */
class DenseFfnTest {
    private static final int DIM = 13;
    private static final int FF = 21;
    private static final int N = 5;
    private static final Parallel PAR = Parallel.create(2);

    @AfterAll
    static void close() {
        PAR.close();
    }

    private static void check(FfnActivation act, long seed) {
        Random rnd = new Random(seed);
        float[] gate = act.gated() ? SparseMoeTest.gauss(rnd, FF * DIM, 1 / Math.sqrt(DIM)) : null;
        float[] up = SparseMoeTest.gauss(rnd, FF * DIM, 1 / Math.sqrt(DIM));
        float[] down = SparseMoeTest.gauss(rnd, DIM * FF, 1 / Math.sqrt(FF));
        float[] x = SparseMoeTest.gauss(rnd, N * DIM, 1);
        DenseFfn ffn = new DenseFfn(new FfnWeights(
                gate == null ? null : F32Tensor.of("blk.0.ffn_gate.weight", Shape.of(FF, DIM), gate),
                F32Tensor.of("blk.0.ffn_up.weight", Shape.of(FF, DIM), up),
                F32Tensor.of("blk.0.ffn_down.weight", Shape.of(DIM, FF), down)), act, Kernels.vector(), PAR);
        double[][] ref = new double[N][];
        for (int t = 0; t < N; t++) {
            double[] xt = new double[DIM];
            for (int i = 0; i < DIM; i++) {
                xt[i] = x[t * DIM + i];
            }
            ref[t] = NaiveMoe.ffn(act, gate, up, down, 0, FF, DIM, xt);
        }
        float[] batch = new float[N * DIM];
        ffn.forward(batch, x, N, ffn.newState(new SessionLimits(N, 16)));
        SparseMoeTest.assertClose(ref, batch, 1e-5);
        DenseFfn.Scratch one = ffn.newState(new SessionLimits(1, 16));
        float[] o = new float[DIM];
        for (int t = 0; t < N; t++) {
            ffn.forward(o, Arrays.copyOfRange(x, t * DIM, (t + 1) * DIM), 1, one);
            assertArrayEquals(Arrays.copyOfRange(batch, t * DIM, (t + 1) * DIM), o);
        }
    }

    @Test
    void swiglu() {
        check(FfnActivation.SWIGLU, 1);
    }

    @Test
    void geglu() {
        check(FfnActivation.GEGLU, 2);
    }

    @Test
    void relu2AsNemotronH() {
        check(FfnActivation.RELU2, 3);
    }

    @Test
    void gateMustMatchTheActivation() {
        F32Tensor up = F32Tensor.of("up", Shape.of(FF, DIM), new float[FF * DIM]);
        F32Tensor down = F32Tensor.of("down", Shape.of(DIM, FF), new float[FF * DIM]);
        assertThrows(IllegalArgumentException.class, () -> new DenseFfn(new FfnWeights(null, up, down),
                FfnActivation.SWIGLU, Kernels.vector(), PAR));
        assertThrows(IllegalArgumentException.class, () -> new DenseFfn(new FfnWeights(up, up, up),
                FfnActivation.SWIGLU, Kernels.vector(), PAR));
    }
}
