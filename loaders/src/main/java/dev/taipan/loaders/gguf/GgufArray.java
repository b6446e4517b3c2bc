package dev.taipan.loaders.gguf;

import java.util.AbstractList;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * A GGUF metadata array: a {@link List} (so {@link dev.taipan.loaders.Metadata} treats it like any
 * array) that remembers its element type and keeps its values unboxed, in the width stored in the
 * file. {@link #get} boxes as the metadata contract says: {@link Long} for every integer type,
 * {@link Float}, {@link Double}, {@link Boolean}, {@link String}, or a nested {@code GgufArray}.
 * Immutable.
 */
public final class GgufArray extends AbstractList<Object> implements RandomAccess {
    private final GgufValueType elementType;
    /** One of byte[], short[], int[], long[], float[], double[], String[], GgufArray[] (see {@link #storageOf}). */
    private final Object values;
    private final int size;

    private GgufArray(GgufValueType elementType, Object values, int size) {
        this.elementType = elementType;
        this.values = values;
        this.size = size;
    }

    /** Wraps a storage array of the Java type {@link #storageOf} gives for {@code elementType}; not copied. */
    static GgufArray wrap(GgufValueType elementType, Object values) {
        int n = switch (values) {
            case byte[] a when storageOf(elementType) == byte[].class -> a.length;
            case short[] a when storageOf(elementType) == short[].class -> a.length;
            case int[] a when storageOf(elementType) == int[].class -> a.length;
            case long[] a when storageOf(elementType) == long[].class -> a.length;
            case float[] a when storageOf(elementType) == float[].class -> a.length;
            case double[] a when storageOf(elementType) == double[].class -> a.length;
            case String[] a when storageOf(elementType) == String[].class -> a.length;
            case GgufArray[] a when storageOf(elementType) == GgufArray[].class -> a.length;
            default -> throw new IllegalArgumentException(
                    "storage " + values.getClass().getSimpleName() + " does not hold " + elementType);
        };
        return new GgufArray(elementType, values, n);
    }

    /** The Java array class holding elements of that type. */
    static Class<?> storageOf(GgufValueType t) {
        return switch (t) {
            case UINT8, INT8, BOOL -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case STRING -> String[].class;
            case ARRAY -> GgufArray[].class;
        };
    }

    public static GgufArray ofStrings(List<String> strings) {
        String[] a = strings.toArray(new String[0]);
        for (String s : a) {
            Objects.requireNonNull(s, "null string in array");
        }
        return new GgufArray(GgufValueType.STRING, a, a.length);
    }

    public static GgufArray ofFloats(float... values) {
        return new GgufArray(GgufValueType.FLOAT32, values.clone(), values.length);
    }

    public static GgufArray ofDoubles(double... values) {
        return new GgufArray(GgufValueType.FLOAT64, values.clone(), values.length);
    }

    public static GgufArray ofBools(boolean... values) {
        byte[] a = new byte[values.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) (values[i] ? 1 : 0);
        }
        return new GgufArray(GgufValueType.BOOL, a, a.length);
    }

    public static GgufArray ofArrays(List<GgufArray> arrays) {
        GgufArray[] a = arrays.toArray(new GgufArray[0]);
        for (GgufArray x : a) {
            Objects.requireNonNull(x, "null element in array of arrays");
        }
        return new GgufArray(GgufValueType.ARRAY, a, a.length);
    }

    /**
     * An array of one of the eight integer types.
     *
     * @throws IllegalArgumentException when a value does not fit the type
     */
    public static GgufArray ofIntegers(GgufValueType type, long... values) {
        if (!type.isInteger()) {
            throw new IllegalArgumentException(type + " is not an integer type");
        }
        for (long v : values) {
            checkRange(type, v);
        }
        int n = values.length;
        Object storage = switch (type) {
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (byte) values[i];
                }
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (short) values[i];
                }
                yield a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (int) values[i];
                }
                yield a;
            }
            default -> values.clone();
        };
        return wrap(type, storage);
    }

    /**
     * Checks that {@code v} is representable in integer type {@code t} (UINT64 values are limited
     * to Long.MAX_VALUE, as in metadata).
     */
    static long checkRange(GgufValueType t, long v) {
        boolean ok = switch (t) {
            case UINT8 -> v >= 0 && v <= 0xFF;
            case INT8 -> v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
            case UINT16 -> v >= 0 && v <= 0xFFFF;
            case INT16 -> v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
            case UINT32 -> v >= 0 && v <= 0xFFFF_FFFFL;
            case INT32 -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
            case UINT64 -> v >= 0;
            case INT64 -> true;
            default -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException("value " + v + " does not fit " + t);
        }
        return v;
    }

    public GgufValueType elementType() {
        return elementType;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Object get(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> longAt(i);
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            case BOOL -> ((byte[]) values)[i] != 0;
            case STRING -> ((String[]) values)[i];
            case ARRAY -> ((GgufArray[]) values)[i];
        };
    }

    /** Element {@code i} of an integer array, widened as its type says (unsigned types zero-extended). */
    public long longAt(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case UINT8 -> ((byte[]) values)[i] & 0xFFL;
            case INT8 -> ((byte[]) values)[i];
            case UINT16 -> ((short[]) values)[i] & 0xFFFFL;
            case INT16 -> ((short[]) values)[i];
            case UINT32 -> ((int[]) values)[i] & 0xFFFF_FFFFL;
            case INT32 -> ((int[]) values)[i];
            case UINT64, INT64 -> ((long[]) values)[i];
            default -> throw new IllegalStateException("array of " + elementType + " holds no integers");
        };
    }

    /** Element {@code i} of a numeric array as a float. */
    public float floatAt(int i) {
        Objects.checkIndex(i, size);
        return switch (elementType) {
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> (float) ((double[]) values)[i];
            case STRING, ARRAY, BOOL ->
                    throw new IllegalStateException("array of " + elementType + " holds no numbers");
            default -> longAt(i);
        };
    }

    /** Element {@code i} of a string array. */
    public String stringAt(int i) {
        Objects.checkIndex(i, size);
        if (elementType != GgufValueType.STRING) {
            throw new IllegalStateException("array of " + elementType + " holds no strings");
        }
        return ((String[]) values)[i];
    }

    /** Raw storage, for the writer: the Java array {@link #storageOf} names. Do not modify. */
    Object storage() {
        return values;
    }
}
