package dev.taipan.loaders.gguf;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF version 3 files that llama.cpp loads: header, metadata of every type (arrays and
 * arrays of arrays included), the tensor table with offsets packed in table order and padded to
 * the alignment, the data section starting at an aligned offset, zero padding between tensors.
 * These are the rules ggml's gguf.cpp (llama.cpp 34af94cd) checks when reading: tensor names
 * shorter than 64 bytes, 1 to 4 dimensions, {@code ne[0]} a multiple of the block size, each
 * offset equal to the padded running sum of the previous sizes.
 *
 * <p>Shapes are given row-major ({@link Shape}) and stored as ggml {@code ne} (reversed). Tensor
 * bytes are referenced, not copied, until {@link #write}.
 */
public final class GgufWriter {
    /** ggml's GGML_MAX_NAME: a tensor name must be shorter than this many bytes. */
    static final int MAX_NAME_BYTES = 64;
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record PendingTensor(String name, DType type, long[] ne, MemorySegment data) {
    }

    private final Map<String, GgufKv> kvs = new LinkedHashMap<>();
    private final Map<String, PendingTensor> tensors = new LinkedHashMap<>();
    private int alignment = GgufParser.DEFAULT_ALIGNMENT;

    /**
     * Adds a metadata entry; {@code value} must match {@code type} (a {@link Long} for integer types,
     * {@link Float}, {@link Double}, {@link Boolean}, {@link String}, {@link GgufArray}).
     * {@code general.alignment} (UINT32, a power of two) also sets the data alignment.
     *
     * @throws IllegalArgumentException on a duplicate key or a value that does not fit the type
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        GgufKv kv = new GgufKv(key, type, value);
        if (key.equals(GgufParser.ALIGNMENT_KEY)) {
            long a = type == GgufValueType.UINT32 ? (Long) value : -1;
            if (a <= 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw new IllegalArgumentException(key + " must be a UINT32 power of two, got " + type + " " + value);
            }
            alignment = (int) a;
        }
        if (kvs.putIfAbsent(key, kv) != null) {
            throw new IllegalArgumentException("duplicate metadata key '" + key + "'");
        }
        return this;
    }

    /** Adds every entry in order (e.g. {@link GgufFile#kvs()} of a file being copied). */
    public GgufWriter putAll(List<GgufKv> entries) {
        for (GgufKv kv : entries) {
            put(kv.key(), kv.type(), kv.value());
        }
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putUInt32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, GgufValueType.INT32, (long) value);
    }

    public GgufWriter putUInt64(String key, long value) {
        return put(key, GgufValueType.UINT64, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    public GgufWriter putArray(String key, GgufArray value) {
        return put(key, GgufValueType.ARRAY, value);
    }

    /** Sets the data alignment (writes {@code general.alignment} when it differs from 32). */
    public GgufWriter alignment(int bytes) {
        if (bytes != GgufParser.DEFAULT_ALIGNMENT || kvs.containsKey(GgufParser.ALIGNMENT_KEY)) {
            kvs.remove(GgufParser.ALIGNMENT_KEY);
            put(GgufParser.ALIGNMENT_KEY, GgufValueType.UINT32, (long) bytes);
        }
        return this;
    }

    /**
     * Adds a tensor of any type from its raw bytes (ggml layout, little-endian); the segment is
     * read at {@link #write} time.
     *
     * @throws IllegalArgumentException on a duplicate or too long name, a rank outside 1..4, a row
     *     length not a multiple of the block size, or a byte size that does not match
     */
    public GgufWriter addTensor(String name, DType type, Shape shape, MemorySegment data) {
        if (type.ggmlId() < 0) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " has no ggml type id");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length >= MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' is not shorter than "
                    + MAX_NAME_BYTES + " bytes (ggml's limit)");
        }
        if (shape.rank() < 1 || shape.rank() > GgufParser.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "': rank " + shape.rank() + " outside 1..4");
        }
        if (shape.cols() % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': row length " + shape.cols()
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        long expected = type.byteSize(shape.elementCount());
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " " + shape + " needs "
                    + expected + " bytes, got " + data.byteSize());
        }
        long[] ne = new long[shape.rank()];
        for (int i = 0; i < ne.length; i++) {
            ne[i] = shape.ne(i);
        }
        if (tensors.putIfAbsent(name, new PendingTensor(name, type, ne, data)) != null) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        return this;
    }

    public GgufWriter addTensor(String name, DType type, Shape shape, byte[] data) {
        return addTensor(name, type, shape, MemorySegment.ofArray(data.clone()));
    }

    /** Adds an F32 tensor holding a copy of {@code values}. */
    public GgufWriter addF32(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, seg, LE_FLOAT, 0, values.length);
        return addTensor(name, DType.F32, shape, seg);
    }

    /** Adds an F16 tensor: {@code values} rounded to half precision (round to nearest even, as ggml). */
    public GgufWriter addF16(String name, Shape shape, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 2]);
        for (int i = 0; i < values.length; i++) {
            seg.set(LE_SHORT, 2L * i, Float.floatToFloat16(values[i]));
        }
        return addTensor(name, DType.F16, shape, seg);
    }

    /** Writes the file (replacing any existing one). */
    public void write(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeAll(ByteBuffer.wrap(header()), ch);
            for (PendingTensor t : tensors.values()) {
                long bytes = t.data().byteSize();
                for (long off = 0; off < bytes; off += 1 << 30) {
                    writeAll(t.data().asSlice(off, Math.min(1 << 30, bytes - off)).asByteBuffer(), ch);
                }
                writeAll(ByteBuffer.allocate(padding(bytes)), ch);
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
            out.writeBytes(new byte[padding(t.data().byteSize())]);
        }
        return out.toByteArray();
    }

    /** Header, metadata, tensor table and padding up to the data section. */
    private byte[] header() {
        LeBuffer b = new LeBuffer();
        b.u32(GgufParser.MAGIC);
        b.u32(3);
        b.u64(tensors.size());
        b.u64(kvs.size());
        for (GgufKv kv : kvs.values()) {
            b.string(kv.key());
            b.u32(kv.type().id());
            value(b, kv.type(), kv.value());
        }
        long offset = 0;
        for (PendingTensor t : tensors.values()) {
            b.string(t.name());
            b.u32(t.ne().length);
            for (long n : t.ne()) {
                b.u64(n);
            }
            b.u32(t.type().ggmlId());
            b.u64(offset);
            offset += t.data().byteSize() + padding(t.data().byteSize());
        }
        b.zeros(padding(b.size()));
        return b.toByteArray();
    }

    private int padding(long size) {
        return (int) (GgufParser.alignUp(size, alignment) - size);
    }

    private static void value(LeBuffer b, GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> b.u8((int) (long) (Long) v);
            case UINT16, INT16 -> b.u16((int) (long) (Long) v);
            case UINT32, INT32 -> b.u32((int) (long) (Long) v);
            case UINT64, INT64 -> b.u64((Long) v);
            case FLOAT32 -> b.u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> b.u64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> b.u8((Boolean) v ? 1 : 0);
            case STRING -> b.string((String) v);
            case ARRAY -> array(b, (GgufArray) v);
        }
    }

    private static void array(LeBuffer b, GgufArray a) {
        b.u32(a.elementType().id());
        b.u64(a.size());
        switch (a.storage()) {
            case byte[] x -> {
                for (byte v : x) {
                    b.u8(v);
                }
            }
            case short[] x -> {
                for (short v : x) {
                    b.u16(v);
                }
            }
            case int[] x -> {
                for (int v : x) {
                    b.u32(v);
                }
            }
            case long[] x -> {
                for (long v : x) {
                    b.u64(v);
                }
            }
            case float[] x -> {
                for (float v : x) {
                    b.u32(Float.floatToRawIntBits(v));
                }
            }
            case double[] x -> {
                for (double v : x) {
                    b.u64(Double.doubleToRawLongBits(v));
                }
            }
            case String[] x -> {
                for (String v : x) {
                    b.string(v);
                }
            }
            case GgufArray[] x -> {
                for (GgufArray v : x) {
                    array(b, v);
                }
            }
            default -> throw new IllegalStateException(a.storage().getClass().getName());
        }
    }

    private static void writeAll(ByteBuffer buf, FileChannel ch) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** A growable little-endian byte buffer. */
    private static final class LeBuffer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void u8(int v) {
            out.write(v);
        }

        void u16(int v) {
            out.write(v);
            out.write(v >>> 8);
        }

        void u32(int v) {
            for (int i = 0; i < 4; i++) {
                out.write(v >>> (8 * i));
            }
        }

        void u64(long v) {
            for (int i = 0; i < 8; i++) {
                out.write((int) (v >>> (8 * i)));
            }
        }

        void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            out.writeBytes(bytes);
        }

        void zeros(int n) {
            out.writeBytes(new byte[n]);
        }

        long size() {
            return out.size();
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
