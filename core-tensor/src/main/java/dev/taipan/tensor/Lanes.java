package dev.taipan.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sum of a vector's float (or double) lanes in one fixed order: halves added lane-wise (16 -> 8 -> 4 lanes),
 * then {@code (l0 + l2) + (l1 + l3)}. {@code reduceLanes(ADD)} leaves the order to the
 * implementation, and the JDK's interpreted fallback and C2's intrinsic add in different orders, so a
 * kernel gave different last bits before and after it was compiled (the same call in a cold and in a
 * warm JVM). Every step here is a lane-wise IEEE add, equal in every execution mode; the tree is also
 * shorter than a sequential sum (4 dependent adds instead of 15).
 */
public final class Lanes {

    private Lanes() {
    }

    private static final VectorShuffle<Float> F512_8 = VectorShuffle.iota(FloatVector.SPECIES_512, 8, 1, true);
    private static final VectorShuffle<Float> F512_4 = VectorShuffle.iota(FloatVector.SPECIES_512, 4, 1, true);
    private static final VectorShuffle<Float> F512_2 = VectorShuffle.iota(FloatVector.SPECIES_512, 2, 1, true);
    private static final VectorShuffle<Float> F512_1 = VectorShuffle.iota(FloatVector.SPECIES_512, 1, 1, true);

    /** Sum of the lanes of {@code v} (any float species), in the order of the class comment. */
    public static float sum(FloatVector v) {
        if (v.length() == 16) {
            FloatVector s = v.add(v.rearrange(F512_8));
            s = s.add(s.rearrange(F512_4));
            s = s.add(s.rearrange(F512_2));
            return s.lane(0) + s.lane(1);
        }
        return sumSmall(v);
    }

    private static float sumSmall(FloatVector v) {
        FloatVector s = v;
        if (s.length() == 8) {
            s = halves(s, FloatVector.SPECIES_128);
        }
        if (s.length() == 4) {
            return (s.lane(0) + s.lane(2)) + (s.lane(1) + s.lane(3));
        }
        float sum = 0f;
        for (int i = 0; i < s.length(); i++) {
            sum += s.lane(i);
        }
        return sum;
    }

    /** Sum of the lanes of {@code v}: halves added lane-wise down to 2 lanes, then {@code l0 + l1}. */
    public static double sum(DoubleVector v) {
        DoubleVector s = v;
        if (s.length() == 8) {
            s = halves(s, DoubleVector.SPECIES_256);
        }
        if (s.length() == 4) {
            s = halves(s, DoubleVector.SPECIES_128);
        }
        double sum = 0.0;
        for (int i = 0; i < s.length(); i++) {
            sum += s.lane(i);
        }
        return sum;
    }

    private static DoubleVector halves(DoubleVector v, VectorSpecies<Double> half) {
        DoubleVector lo = (DoubleVector) v.reinterpretShape(half, 0);
        DoubleVector hi = (DoubleVector) v.reinterpretShape(half, 1);
        return lo.add(hi);
    }

    // lower half + upper half, lane-wise, in the species of half the size
    private static FloatVector halves(FloatVector v, VectorSpecies<Float> half) {
        FloatVector lo = (FloatVector) v.reinterpretShape(half, 0);
        FloatVector hi = (FloatVector) v.reinterpretShape(half, 1);
        return lo.add(hi);
    }
}
