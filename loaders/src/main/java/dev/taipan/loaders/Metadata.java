package dev.taipan.loaders;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Typed access to model metadata. Raw values are: {@link Long} for every integer type (unsigned
 * 64-bit values above Long.MAX_VALUE are rejected at parse time), {@link Float} / {@link Double},
 * {@link Boolean}, {@link String}, and {@link List} (of the same) for arrays, including arrays of
 * arrays. A getter throws {@link ModelFormatException} naming the file and key when the key is
 * missing or has another type.
 */
public interface Metadata {

    /** Where this metadata comes from (file name), for messages. */
    String origin();

    Set<String> keys();

    Optional<Object> raw(String key);

    default boolean has(String key) {
        return raw(key).isPresent();
    }

    default Object require(String key) {
        return raw(key).orElseThrow(() -> new ModelFormatException(origin() + ": missing metadata key '" + key + "'"));
    }

    default String getString(String key) {
        return as(key, require(key), String.class);
    }

    default long getLong(String key) {
        return as(key, require(key), Long.class);
    }

    default int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ModelFormatException(origin() + ": metadata key '" + key + "' = " + v + " does not fit an int");
        }
        return (int) v;
    }

    default int getInt(String key, int fallback) {
        return has(key) ? getInt(key) : fallback;
    }

    default float getFloat(String key) {
        Object v = require(key);
        if (v instanceof Number n && !(v instanceof Long)) {
            return n.floatValue();
        }
        throw typeError(key, v, "float");
    }

    default float getFloat(String key, float fallback) {
        return has(key) ? getFloat(key) : fallback;
    }

    default boolean getBool(String key, boolean fallback) {
        return has(key) ? as(key, require(key), Boolean.class) : fallback;
    }

    default List<?> getArray(String key) {
        return as(key, require(key), List.class);
    }

    default List<String> getStringArray(String key) {
        List<?> list = getArray(key);
        for (Object o : list) {
            if (!(o instanceof String)) {
                throw typeError(key, o, "array of strings");
            }
        }
        @SuppressWarnings("unchecked")
        List<String> strings = (List<String>) list;
        return strings;
    }

    default float[] getFloatArray(String key) {
        List<?> list = getArray(key);
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Number n)) {
                throw typeError(key, list.get(i), "array of numbers");
            }
            out[i] = n.floatValue();
        }
        return out;
    }

    default int[] getIntArray(String key) {
        List<?> list = getArray(key);
        int[] out = new int[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long n) || n != n.intValue()) {
                throw typeError(key, list.get(i), "array of ints");
            }
            out[i] = (int) (long) n;
        }
        return out;
    }

    /**
     * A per-layer integer that may be stored as one scalar or as an array with one value per layer
     * (e.g. {@code <arch>.attention.head_count_kv}).
     */
    default int[] getPerLayerInt(String key, int nLayers) {
        Object v = require(key);
        int[] out = new int[nLayers];
        if (v instanceof List<?>) {
            int[] arr = getIntArray(key);
            if (arr.length != nLayers) {
                throw new ModelFormatException(origin() + ": metadata key '" + key + "' has " + arr.length
                        + " values, expected one per layer (" + nLayers + ")");
            }
            return arr;
        }
        java.util.Arrays.fill(out, getInt(key));
        return out;
    }

    private <T> T as(String key, Object v, Class<T> type) {
        if (!type.isInstance(v)) {
            throw typeError(key, v, type.getSimpleName());
        }
        return type.cast(v);
    }

    private ModelFormatException typeError(String key, Object v, String expected) {
        return new ModelFormatException(origin() + ": metadata key '" + key + "' is "
                + (v == null ? "null" : v.getClass().getSimpleName()) + ", expected " + expected);
    }
}
