package dev.taipan.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sum of a vector's float (or double) lanes in one fixed order: with {@code n} lanes,
 * {@code s[i] = v[i] + v[i + n/2]}, then the same on the first half of {@code s}, down to two
 * lanes, then {@code s[0] + s[1]} (for 16 lanes: 16 -> 8 -> 4 -> 2 -> 1). {@code reduceLanes(ADD)}
 * leaves the order to the implementation, and the JDK's interpreted fallback and C2's intrinsic add
 * in different orders, so a kernel gave different last bits before and after it was compiled (the
 * same call in a cold and in a warm JVM). Here every step is a lane rotation and a lane-wise IEEE
 * add, equal in every execution mode; the tree is also shorter than a sequential sum (4 dependent
 * adds instead of 15).
 */
public final class Lanes {

    /**
     * Lanes rotated by 8, 4 and 2 (16-lane floats), also for two-row kernels that sum two
     * accumulators in one tree written inline (a call there would not be inlined by C2, and a vector
     * crossing a call is boxed): blend a's lanes 0..7 with b's 8..15, add the other halves rotated
     * by 8, then rotate-add by 4 and 2; a's sum is {@code lane(0) + lane(1)}, b's
     * {@code lane(8) + lane(9)}, each equal to {@link #sum} bit for bit.
     */
    public static final VectorShuffle<Float> F512_8 = rotation(FloatVector.SPECIES_512, 8);
    public static final VectorShuffle<Float> F512_4 = rotation(FloatVector.SPECIES_512, 4);
    public static final VectorShuffle<Float> F512_2 = rotation(FloatVector.SPECIES_512, 2);
    private static final VectorShuffle<Float> F256_4 = rotation(FloatVector.SPECIES_256, 4);
    private static final VectorShuffle<Float> F256_2 = rotation(FloatVector.SPECIES_256, 2);
    private static final VectorShuffle<Float> F128_2 = rotation(FloatVector.SPECIES_128, 2);
    private static final VectorShuffle<Double> D512_4 = rotation(DoubleVector.SPECIES_512, 4);
    private static final VectorShuffle<Double> D512_2 = rotation(DoubleVector.SPECIES_512, 2);
    private static final VectorShuffle<Double> D256_2 = rotation(DoubleVector.SPECIES_256, 2);
    /** Lanes 8..15 of a 512-bit float vector (the blend of the two-row trees above). */
    public static final VectorMask<Float> F512_HIGH = VectorMask.fromLong(FloatVector.SPECIES_512, 0xFF00L);

    private Lanes() {
    }

    private static <E> VectorShuffle<E> rotation(VectorSpecies<E> species, int by) {
        return VectorShuffle.iota(species, by, 1, true);
    }

    /** Sum of the lanes of {@code v} (any float species), in the order of the class comment. */
    public static float sum(FloatVector v) {
        FloatVector s = v;
        switch (s.length()) {
            case 16 -> {
                s = s.add(s.rearrange(F512_8));
                s = s.add(s.rearrange(F512_4));
                s = s.add(s.rearrange(F512_2));
            }
            case 8 -> {
                s = s.add(s.rearrange(F256_4));
                s = s.add(s.rearrange(F256_2));
            }
            case 4 -> s = s.add(s.rearrange(F128_2));
            default -> {
                float sum = s.lane(0);
                for (int i = 1; i < s.length(); i++) {
                    sum += s.lane(i);
                }
                return sum;
            }
        }
        return s.lane(0) + s.lane(1);
    }

    /** Sum of the lanes of {@code v}, in the order of the class comment. */
    public static double sum(DoubleVector v) {
        DoubleVector s = v;
        switch (s.length()) {
            case 8 -> {
                s = s.add(s.rearrange(D512_4));
                s = s.add(s.rearrange(D512_2));
            }
            case 4 -> s = s.add(s.rearrange(D256_2));
            default -> {
                double sum = s.lane(0);
                for (int i = 1; i < s.length(); i++) {
                    sum += s.lane(i);
                }
                return sum;
            }
        }
        return s.lane(0) + s.lane(1);
    }
}
