package dev.taipan.loaders;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A Hugging Face {@code config.json} (or any nested object of it, e.g. {@code rope_scaling},
 * {@code text_config}) with typed getters. A getter throws {@link ModelFormatException} naming
 * the file and the key when the key is missing or holds another type; a JSON {@code null} counts
 * as missing. Integer getters accept integral floats ({@code 4096.0}); float getters accept
 * integers.
 */
public final class HfConfig {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final String origin;
    private final JsonNode root;

    private HfConfig(String origin, JsonNode root) {
        this.origin = origin;
        this.root = root;
    }

    /**
     * Reads a config.json.
     *
     * @throws ModelFormatException when it is not a JSON object
     * @throws UncheckedIOException when it cannot be read
     */
    public static HfConfig read(Path file) {
        String origin = String.valueOf(file.getFileName());
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(origin + ": cannot read: " + e.getMessage(), e);
        }
        return parse(origin, bytes);
    }

    /** Parses config JSON held in memory; {@code origin} names it in messages. */
    public static HfConfig parse(String origin, byte[] json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new ModelFormatException(origin + ": malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(origin + ": unreadable JSON: " + e.getMessage(), e);
        }
        return of(origin, node);
    }

    /** Wraps a JSON object. */
    public static HfConfig of(String origin, JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new ModelFormatException(origin + ": expected a JSON object, found "
                    + (node == null ? "nothing" : node.getNodeType()));
        }
        return new HfConfig(origin, node);
    }

    /** The file (and path of nested objects) this comes from, for messages. */
    public String origin() {
        return origin;
    }

    /** The underlying JSON object (read-only by convention). */
    public JsonNode json() {
        return root;
    }

    /** Present and not null. */
    public boolean has(String key) {
        JsonNode v = root.get(key);
        return v != null && !v.isNull();
    }

    /** {@code model_type}, e.g. "mamba3". */
    public String modelType() {
        return getString("model_type");
    }

    /** {@code architectures}, e.g. ["Mamba3ForCausalLM"]; empty when absent. */
    public List<String> architectures() {
        return has("architectures") ? getStringArray("architectures") : List.of();
    }

    public String getString(String key) {
        JsonNode v = require(key);
        if (!v.isTextual()) {
            throw typeError(key, v, "a string");
        }
        return v.textValue();
    }

    public String getString(String key, String fallback) {
        return has(key) ? getString(key) : fallback;
    }

    public long getLong(String key) {
        JsonNode v = require(key);
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.longValue();
        }
        if (v.isFloatingPointNumber() && v.doubleValue() == Math.rint(v.doubleValue())
                && Math.abs(v.doubleValue()) < 0x1p53) {
            return (long) v.doubleValue();
        }
        throw typeError(key, v, "an integer");
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v != (int) v) {
            throw new ModelFormatException(origin + ": key '" + key + "' = " + v + " does not fit an int");
        }
        return (int) v;
    }

    public int getInt(String key, int fallback) {
        return has(key) ? getInt(key) : fallback;
    }

    public double getDouble(String key) {
        JsonNode v = require(key);
        if (!v.isNumber()) {
            throw typeError(key, v, "a number");
        }
        return v.doubleValue();
    }

    public double getDouble(String key, double fallback) {
        return has(key) ? getDouble(key) : fallback;
    }

    public float getFloat(String key) {
        return (float) getDouble(key);
    }

    public float getFloat(String key, float fallback) {
        return has(key) ? getFloat(key) : fallback;
    }

    public boolean getBool(String key) {
        JsonNode v = require(key);
        if (!v.isBoolean()) {
            throw typeError(key, v, "a boolean");
        }
        return v.booleanValue();
    }

    public boolean getBool(String key, boolean fallback) {
        return has(key) ? getBool(key) : fallback;
    }

    public int[] getIntArray(String key) {
        JsonNode v = requireArray(key);
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw typeError(key + "[" + i + "]", e, "an int");
            }
            out[i] = e.intValue();
        }
        return out;
    }

    public double[] getDoubleArray(String key) {
        JsonNode v = requireArray(key);
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isNumber()) {
                throw typeError(key + "[" + i + "]", e, "a number");
            }
            out[i] = e.doubleValue();
        }
        return out;
    }

    public List<String> getStringArray(String key) {
        JsonNode v = requireArray(key);
        List<String> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isTextual()) {
                throw typeError(key + "[" + i + "]", e, "a string");
            }
            out.add(e.textValue());
        }
        return List.copyOf(out);
    }

    /** A nested object (e.g. {@code rope_scaling}), or empty when absent or null. */
    public Optional<HfConfig> getObject(String key) {
        if (!has(key)) {
            return Optional.empty();
        }
        JsonNode v = root.get(key);
        if (!v.isObject()) {
            throw typeError(key, v, "an object");
        }
        return Optional.of(new HfConfig(origin + " '" + key + "'", v));
    }

    private JsonNode require(String key) {
        if (!has(key)) {
            throw new ModelFormatException(origin + ": missing key '" + key + "'");
        }
        return root.get(key);
    }

    private JsonNode requireArray(String key) {
        JsonNode v = require(key);
        if (!v.isArray()) {
            throw typeError(key, v, "an array");
        }
        return v;
    }

    private ModelFormatException typeError(String key, JsonNode v, String expected) {
        return new ModelFormatException(origin + ": key '" + key + "' is " + v.getNodeType() + " (" + abbreviate(v)
                + "), expected " + expected);
    }

    private static String abbreviate(JsonNode v) {
        String s = v.toString();
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    @Override
    public String toString() {
        return "HfConfig[" + origin + "]";
    }
}
