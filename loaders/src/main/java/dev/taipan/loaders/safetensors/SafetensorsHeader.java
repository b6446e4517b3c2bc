package dev.taipan.loaders.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and validates a safetensors file: an unsigned 64-bit little-endian header length N, N
 * bytes of UTF-8 JSON (an object of tensor entries {@code {"dtype", "shape", "data_offsets"}} and
 * an optional {@code "__metadata__"} object of strings), then the data section. Follows the format
 * of huggingface/safetensors (README "Format", and the checks of its Rust crate's
 * {@code Metadata::validate}): the header is at most 100 MB, the tensors' byte ranges tile the
 * whole data section without gaps or overlaps, and each range is exactly shape × dtype bytes.
 * Every failure is a {@link ModelFormatException} naming the file and the entry.
 */
final class SafetensorsHeader {
    /** The Rust crate's MAX_HEADER_SIZE. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The validated header; tensors in header order. */
    record Parsed(Map<String, String> metadata, List<SafetensorsTensorInfo> tensors, long dataStart) {
    }

    private SafetensorsHeader() {
    }

    /** The dtype of a safetensors dtype string, or null when unknown. */
    static DType dtype(String s) {
        return switch (s) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F64" -> DType.F64;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "I16" -> DType.I16;
            case "I32" -> DType.I32;
            case "I64" -> DType.I64;
            case "BOOL" -> DType.BOOL;
            case "F8_E4M3" -> DType.F8_E4M3;
            case "F8_E5M2" -> DType.F8_E5M2;
            default -> null;
        };
    }

    /** Parses the header of the file in {@code seg}; {@code origin} names it in messages and infos. */
    static Parsed parse(String origin, MemorySegment seg) {
        long size = seg.byteSize();
        if (size < 8) {
            throw fail(origin, "truncated: " + size + " bytes, too short for the 8-byte header length");
        }
        long n = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 0 || n > size - 8) {
            throw fail(origin, "header length " + Long.toUnsignedString(n) + " extends past the end of the file ("
                    + size + " bytes)");
        }
        if (n > MAX_HEADER_BYTES) {
            throw fail(origin, "header length " + n + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        byte[] text = new byte[(int) n];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 8, text, 0, text.length);
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw fail(origin, "malformed JSON header: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw fail(origin, "unreadable JSON header: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw fail(origin, "JSON header is not an object");
        }
        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<SafetensorsTensorInfo> tensors = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata(origin, e.getValue(), metadata);
            } else {
                tensors.add(tensor(origin, e.getKey(), e.getValue(), dataSize));
            }
        }
        checkTiling(origin, tensors, dataSize);
        return new Parsed(Collections.unmodifiableMap(metadata), List.copyOf(tensors), dataStart);
    }

    private static void metadata(String origin, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw fail(origin, "'" + METADATA_KEY + "' is not an object of strings");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw fail(origin, "'" + METADATA_KEY + "' entry '" + e.getKey() + "' is "
                        + e.getValue().getNodeType() + ", expected a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static SafetensorsTensorInfo tensor(String origin, String name, JsonNode node, long dataSize) {
        String who = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw fail(origin, who + ": entry is not an object");
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw fail(origin, who + ": 'dtype' is missing or not a string");
        }
        DType dtype = dtype(dt.textValue());
        if (dtype == null) {
            throw fail(origin, who + ": unknown dtype '" + dt.textValue() + "'");
        }
        JsonNode sh = node.get("shape");
        if (sh == null || !sh.isArray()) {
            throw fail(origin, who + ": 'shape' is missing or not an array");
        }
        long[] dims = new long[sh.size()];
        // the product of the non-zero dimensions must fit, so that no order of multiplying overflows
        long nonZeroProduct = 1;
        boolean empty = false;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = nonNegativeLong(origin, who, "shape[" + i + "]", sh.get(i));
            empty |= dims[i] == 0;
            try {
                nonZeroProduct = Math.multiplyExact(nonZeroProduct, Math.max(dims[i], 1));
            } catch (ArithmeticException ex) {
                throw fail(origin, who + ": shape " + sh + " has more elements than fit 64 bits");
            }
        }
        long elements = empty ? 0 : nonZeroProduct;
        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw fail(origin, who + ": 'data_offsets' is missing or not a pair [begin, end]");
        }
        long begin = nonNegativeLong(origin, who, "data_offsets[0]", off.get(0));
        long end = nonNegativeLong(origin, who, "data_offsets[1]", off.get(1));
        if (begin > end || end > dataSize) {
            throw fail(origin, who + ": data_offsets [" + begin + ", " + end + ") out of range: the data section has "
                    + dataSize + " bytes");
        }
        long bytes;
        try {
            bytes = dtype.byteSize(elements);
        } catch (ArithmeticException ex) {
            throw fail(origin, who + ": byte size of shape " + sh + " overflows 64 bits");
        }
        if (bytes != end - begin) {
            throw fail(origin, who + ": shape " + sh + " of " + dt.textValue() + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + ") span " + (end - begin));
        }
        return new SafetensorsTensorInfo(name, dtype, Shape.of(dims), begin, end, origin);
    }

    private static long nonNegativeLong(String origin, String who, String field, JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw fail(origin, who + ": " + field + " = " + v + " is not a non-negative 64-bit integer");
        }
        return v.longValue();
    }

    /** The byte ranges must cover {@code [0, dataSize)} exactly, without gaps or overlaps. */
    private static void checkTiling(String origin, List<SafetensorsTensorInfo> tensors, long dataSize) {
        List<SafetensorsTensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(SafetensorsTensorInfo::begin)
                .thenComparingLong(SafetensorsTensorInfo::end));
        long expected = 0;
        SafetensorsTensorInfo prev = null;
        for (SafetensorsTensorInfo t : sorted) {
            if (t.begin() < expected) {
                throw fail(origin, "tensor '" + t.name() + "': data_offsets [" + t.begin() + ", " + t.end()
                        + ") overlap tensor '" + prev.name() + "' [" + prev.begin() + ", " + prev.end() + ")");
            }
            if (t.begin() > expected) {
                throw fail(origin, "data bytes [" + expected + ", " + t.begin() + ") are not covered by any tensor"
                        + " (next is tensor '" + t.name() + "')");
            }
            expected = t.end();
            prev = t;
        }
        if (expected != dataSize) {
            throw fail(origin, "data bytes [" + expected + ", " + dataSize + ") at the end of the file are not covered"
                    + " by any tensor");
        }
    }

    static ModelFormatException fail(String origin, String message) {
        return new ModelFormatException(origin + ": " + message);
    }
}
