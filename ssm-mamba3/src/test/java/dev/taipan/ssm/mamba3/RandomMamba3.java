package dev.taipan.ssm.mamba3;

import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Shape;
import java.util.Random;

/** Seeded random Mamba-3 weights for tests, as plain arrays and as {@link Mamba3Weights}. */
final class RandomMamba3 {
    private RandomMamba3() {
    }

    /** The parameters as float arrays (row-major, shapes as in {@link Mamba3Weights}). */
    record Params(float[] inProj, float[] dtBias, float[] bNorm, float[] cNorm, float[] bBias, float[] cBias,
                  float[] d, float[] mimoX, float[] mimoZ, float[] mimoO, float[] outNorm, float[] outProj) {

        Mamba3Weights weights(Mamba3Config c) {
            return new Mamba3Weights(
                    F32Tensor.of("in_proj.weight", Shape.of(c.dInProj(), c.dModel()), inProj),
                    dtBias, bNorm, cNorm, bBias, cBias, d, mimoX, mimoZ, mimoO, outNorm,
                    F32Tensor.of("out_proj.weight", Shape.of(c.dModel(), c.dInner()), outProj));
        }
    }

    static Params params(Mamba3Config c, long seed) {
        Random rnd = new Random(seed);
        int h = c.nHeads();
        int hrn = h * c.mimoRank() * c.dState();
        int hrp = h * c.mimoRank() * c.headDim();
        boolean mimo = c.variant() == Mamba3Config.Variant.MIMO;
        float[] dtBias = new float[h];
        for (int i = 0; i < h; i++) {
            dtBias[i] = (float) (rnd.nextGaussian() * 0.8 - 1.5);
        }
        return new Params(
                normal(rnd, c.dInProj() * c.dModel(), 1 / Math.sqrt(c.dModel())),
                dtBias,
                around1(rnd, c.dState()),
                around1(rnd, c.dState()),
                normal(rnd, hrn, 0.5),
                normal(rnd, hrn, 0.5),
                normal(rnd, h, 1),
                mimo ? normal(rnd, hrp, 1.0 / c.mimoRank()) : null,
                mimo ? around1(rnd, hrp) : null,
                mimo ? normal(rnd, hrp, 1.0 / c.mimoRank()) : null,
                c.outputNorm() == Mamba3Config.OutputNorm.GROUPED_RMS ? around1(rnd, c.dInner()) : null,
                normal(rnd, c.dModel() * c.dInner(), 1 / Math.sqrt(c.dInner())));
    }

    /** n token rows of dModel standard normal values. */
    static float[] inputs(Mamba3Config c, int n, long seed) {
        return normal(new Random(seed), n * c.dModel(), 1);
    }

    private static float[] normal(Random rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * scale);
        }
        return v;
    }

    private static float[] around1(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (1 + 0.2 * rnd.nextGaussian());
        }
        return v;
    }
}
