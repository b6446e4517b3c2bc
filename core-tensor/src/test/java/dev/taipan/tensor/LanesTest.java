package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The fixed-order lane sums against the same order written out in scalars, bit for bit. */
class LanesTest {

    @Test
    void floatSumFollowsTheHalvingOrderForEveryShape() {
        Random rnd = new Random(3);
        for (VectorSpecies<Float> sp : new VectorSpecies[] {FloatVector.SPECIES_64, FloatVector.SPECIES_128,
                FloatVector.SPECIES_256, FloatVector.SPECIES_512}) {
            for (int rep = 0; rep < 200; rep++) {
                float[] a = new float[sp.length()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
                }
                assertEquals(halvingOrder(a), Lanes.sum(FloatVector.fromArray(sp, a, 0)), sp + " rep " + rep);
            }
        }
    }

    @Test
    void doubleSumFollowsTheHalvingOrderForEveryShape() {
        Random rnd = new Random(4);
        for (VectorSpecies<Double> sp : new VectorSpecies[] {DoubleVector.SPECIES_128, DoubleVector.SPECIES_256,
                DoubleVector.SPECIES_512}) {
            for (int rep = 0; rep < 200; rep++) {
                double[] a = new double[sp.length()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(13) - 6);
                }
                double[] s = a;
                while (s.length > 2) {
                    double[] h = new double[s.length / 2];
                    for (int i = 0; i < h.length; i++) {
                        h[i] = s[i] + s[i + h.length];
                    }
                    s = h;
                }
                assertEquals(s[0] + s[1], Lanes.sum(DoubleVector.fromArray(sp, a, 0)), sp + " rep " + rep);
            }
        }
    }

    // lane i + lane i + n/2 down to 4 lanes, then (l0 + l2) + (l1 + l3); 2 lanes: l0 + l1
    private static float halvingOrder(float[] a) {
        float[] s = a;
        while (s.length > 4) {
            float[] h = new float[s.length / 2];
            for (int i = 0; i < h.length; i++) {
                h[i] = s[i] + s[i + h.length];
            }
            s = h;
        }
        if (s.length == 4) {
            return (s[0] + s[2]) + (s[1] + s[3]);
        }
        return s[0] + s[1];
    }
}
