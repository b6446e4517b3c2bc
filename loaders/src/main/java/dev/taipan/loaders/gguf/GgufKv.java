package dev.taipan.loaders.gguf;

import java.util.Objects;

/**
 * One metadata key/value pair of a GGUF file, with the type it is stored as. {@code value} is a
 * {@link Long} for every integer type, {@link Float}, {@link Double}, {@link Boolean},
 * {@link String}, or a {@link GgufArray} for {@link GgufValueType#ARRAY}.
 */
public record GgufKv(String key, GgufValueType type, Object value) {

    public GgufKv {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        boolean ok = switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 ->
                    value instanceof Long l && GgufArray.checkRange(type, l) == l;
            case FLOAT32 -> value instanceof Float;
            case FLOAT64 -> value instanceof Double;
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> value instanceof GgufArray;
        };
        if (!ok) {
            throw new IllegalArgumentException("key '" + key + "': " + value.getClass().getSimpleName()
                    + " " + value + " is not a " + type + " value");
        }
    }
}
