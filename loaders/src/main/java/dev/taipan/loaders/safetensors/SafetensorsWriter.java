package dev.taipan.loaders.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes safetensors files: u64 little-endian header length, the JSON header (optional
 * {@code __metadata__} first, then the tensors in the order added) padded with spaces to a
 * multiple of 8 bytes as the reference writer does, then the tensors' bytes back to back.
 * Tensor bytes are referenced, not copied, until {@link #write}.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_DOUBLE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record PendingTensor(DType dtype, Shape shape, MemorySegment data) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, PendingTensor> tensors = new LinkedHashMap<>();

    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds a tensor of one of the safetensors dtypes from its raw little-endian bytes.
     *
     * @throws IllegalArgumentException on a duplicate or reserved name, a dtype safetensors lacks,
     *     or a byte size that does not match
     */
    public SafetensorsWriter addTensor(String name, DType dtype, Shape shape, MemorySegment data) {
        if (SafetensorsHeader.dtype(dtype.name()) != dtype) {
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + " is not a safetensors dtype");
        }
        if (name.equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("tensor name '" + name + "' is reserved");
        }
        long expected = dtype.byteSize(shape.elementCount());
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + " " + shape + " needs " + expected
                    + " bytes, got " + data.byteSize());
        }
        if (tensors.putIfAbsent(name, new PendingTensor(dtype, shape, data)) != null) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        return this;
    }

    public SafetensorsWriter addTensor(String name, DType dtype, Shape shape, byte[] data) {
        return addTensor(name, dtype, shape, MemorySegment.ofArray(data.clone()));
    }

    public SafetensorsWriter addF32(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, seg, LE_FLOAT, 0, values.length);
        return addTensor(name, DType.F32, shape, seg);
    }

    public SafetensorsWriter addF64(String name, Shape shape, double[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 8]);
        MemorySegment.copy(values, 0, seg, LE_DOUBLE, 0, values.length);
        return addTensor(name, DType.F64, shape, seg);
    }

    /** F16, rounded to nearest even. */
    public SafetensorsWriter addF16(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 2]);
        for (int i = 0; i < values.length; i++) {
            seg.set(LE_SHORT, 2L * i, Float.floatToFloat16(values[i]));
        }
        return addTensor(name, DType.F16, shape, seg);
    }

    /** BF16, rounded to nearest even as torch does (NaN stays NaN). */
    public SafetensorsWriter addBF16(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 2]);
        for (int i = 0; i < values.length; i++) {
            seg.set(LE_SHORT, 2L * i, toBf16(values[i]));
        }
        return addTensor(name, DType.BF16, shape, seg);
    }

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    public void write(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeAll(ByteBuffer.wrap(header()), ch);
            for (PendingTensor t : tensors.values()) {
                long bytes = t.data().byteSize();
                for (long off = 0; off < bytes; off += 1 << 30) {
                    writeAll(t.data().asSlice(off, Math.min(1 << 30, bytes - off)).asByteBuffer(), ch);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** The whole file as bytes (small files: tests). */
    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header());
        for (PendingTensor t : tensors.values()) {
            out.writeBytes(t.data().toArray(ValueLayout.JAVA_BYTE));
        }
        return out.toByteArray();
    }

    /** Length prefix and space-padded JSON. */
    private byte[] header() {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, PendingTensor> e : tensors.entrySet()) {
            PendingTensor t = e.getValue();
            ObjectNode node = root.putObject(e.getKey());
            node.put("dtype", t.dtype().name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape().dims()) {
                shape.add(d);
            }
            long end = offset + t.data().byteSize();
            node.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[8 + padded];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, out, 8, json.length);
        Arrays.fill(out, 8 + json.length, out.length, (byte) ' ');
        return out;
    }

    private static void writeAll(ByteBuffer buf, FileChannel ch) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
