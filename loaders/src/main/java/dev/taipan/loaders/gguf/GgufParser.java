package dev.taipan.loaders.gguf;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Parses and validates the header of a GGUF file (versions 2 and 3, little-endian): magic, version,
 * counts, metadata key/values, tensor table, alignment and data offset. Follows the layout of
 * ggml's gguf.cpp (llama.cpp 34af94cd) and docs/gguf.md. Every length and count read from the
 * file is checked against the bytes that remain before anything proportional to it is allocated;
 * every failure is a {@link ModelFormatException} naming the file, the field and its offset.
 *
 * <p>Where we differ from ggml: tensors need not be stored in table order or packed back to back
 * (ggml requires both); we require only that each is aligned, inside the file and disjoint from
 * the others. Nested arrays are accepted up to {@link #MAX_ARRAY_DEPTH} levels. Strings that are
 * not valid UTF-8 are decoded with U+FFFD replacements.
 */
final class GgufParser {
    /** "GGUF" read as a little-endian u32. */
    static final int MAGIC = 0x46554747;
    static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    static final int MAX_ARRAY_DEPTH = 8;
    static final String ALIGNMENT_KEY = "general.alignment";
    /** Fewest bytes of one metadata entry: key length, value type, a one-byte value. */
    private static final int MIN_KV_BYTES = 8 + 4 + 1;
    /** Fewest bytes of one tensor info: name length, n_dims, one ne, type, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The validated header: tensor offsets are relative to {@code dataOffset}. */
    record Layout(int version, List<GgufKv> kvs, List<GgufTensorInfo> tensors, int alignment, long dataOffset) {
    }

    private final String origin;
    private final MemorySegment seg;
    private final long size;
    private long pos;

    private GgufParser(String origin, MemorySegment seg) {
        this.origin = origin;
        this.seg = seg;
        this.size = seg.byteSize();
    }

    /** Parses and validates the header in {@code seg} (the whole file); {@code origin} names it in messages. */
    static Layout parse(String origin, MemorySegment seg) {
        return new GgufParser(origin, seg).parse();
    }

    private Layout parse() {
        need(4, "magic");
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            throw fail("not a GGUF file: magic is " + quoteMagic(magic) + ", expected 'GGUF'");
        }
        pos = 4;
        long version = u32("version");
        if (version != 0 && (version & 0xFFFF) == 0) {
            throw fail("version field 0x" + Long.toHexString(version)
                    + " looks byte-swapped: big-endian GGUF files are not supported");
        }
        if (version != 2 && version != 3) {
            throw fail("GGUF version " + version + " is not supported (only versions 2 and 3)");
        }
        long nTensors = count("tensor count", MIN_TENSOR_INFO_BYTES);
        long nKv = count("metadata key/value count", MIN_KV_BYTES);

        List<GgufKv> kvs = new ArrayList<>((int) Math.min(nKv, 1024));
        Set<String> keys = new HashSet<>();
        int alignment = DEFAULT_ALIGNMENT;
        for (long i = 0; i < nKv; i++) {
            long at = pos;
            String key = string("key of metadata entry #" + i);
            if (!keys.add(key)) {
                throw fail("duplicate metadata key '" + key + "' at offset " + at);
            }
            GgufKv kv = keyValue(key);
            if (key.equals(ALIGNMENT_KEY)) {
                alignment = alignment(kv);
            }
            kvs.add(kv);
        }

        List<GgufTensorInfo> tensors = new ArrayList<>((int) Math.min(nTensors, 4096));
        Set<String> names = new HashSet<>();
        for (long i = 0; i < nTensors; i++) {
            long at = pos;
            GgufTensorInfo t = tensorInfo(i);
            if (!names.add(t.name())) {
                throw fail("duplicate tensor name '" + t.name() + "' (tensor #" + i + " at offset " + at + ")");
            }
            tensors.add(t);
        }

        long headerEnd = pos;
        long dataOffset = alignUp(headerEnd, alignment);
        checkTensorPlacement(tensors, alignment, dataOffset);
        return new Layout((int) version, List.copyOf(kvs), List.copyOf(tensors), alignment, dataOffset);
    }

    private GgufKv keyValue(String key) {
        long at = pos;
        long typeId = u32("value type of metadata key '" + key + "'");
        GgufValueType type = GgufValueType.fromId(typeId);
        if (type == null) {
            throw fail("metadata key '" + key + "': unknown value type " + typeId + " at offset " + at);
        }
        return new GgufKv(key, type, value(type, key, 0));
    }

    private Object value(GgufValueType type, String key, int depth) {
        String what = "value of metadata key '" + key + "'";
        return switch (type) {
            case UINT8 -> (long) u8(what);
            case INT8 -> (long) (byte) u8(what);
            case UINT16 -> (long) (u16(what) & 0xFFFF);
            case INT16 -> (long) u16(what);
            case UINT32 -> u32(what);
            case INT32 -> (long) (int) u32(what);
            case UINT64 -> unsigned64(u64(what), key);
            case INT64 -> u64(what);
            case FLOAT32 -> f32(what);
            case FLOAT64 -> f64(what);
            case BOOL -> bool(u8(what), key);
            case STRING -> string(what);
            case ARRAY -> array(key, depth);
        };
    }

    private GgufArray array(String key, int depth) {
        long at = pos;
        long typeId = u32("element type of array '" + key + "'");
        GgufValueType et = GgufValueType.fromId(typeId);
        if (et == null) {
            throw fail("metadata key '" + key + "': unknown array element type " + typeId + " at offset " + at);
        }
        if (et == GgufValueType.ARRAY && depth + 1 >= MAX_ARRAY_DEPTH) {
            throw fail("metadata key '" + key + "': arrays nested deeper than " + MAX_ARRAY_DEPTH
                    + " levels at offset " + at);
        }
        long countAt = pos;
        long n = u64("element count of array '" + key + "'");
        long left = size - pos;
        if (n < 0 || n > left / et.minBytes() || n > Integer.MAX_VALUE - 8) {
            throw fail("metadata key '" + key + "': array of " + Long.toUnsignedString(n) + " " + et
                    + " elements at offset " + countAt + " cannot fit in the " + left + " bytes left");
        }
        int count = (int) n;
        Object storage = switch (et) {
            case UINT8, INT8 -> bulk(new byte[count]);
            case BOOL -> {
                byte[] a = bulk(new byte[count]);
                for (int i = 0; i < count; i++) {
                    if (a[i] != 0 && a[i] != 1) {
                        throw fail("metadata key '" + key + "': element " + i + " of a BOOL array is "
                                + (a[i] & 0xFF) + ", expected 0 or 1");
                    }
                }
                yield a;
            }
            case UINT16, INT16 -> bulk(new short[count]);
            case UINT32, INT32 -> bulk(new int[count]);
            case UINT64, INT64 -> {
                long[] a = bulk(new long[count]);
                if (et == GgufValueType.UINT64) {
                    for (long v : a) {
                        unsigned64(v, key);
                    }
                }
                yield a;
            }
            case FLOAT32 -> bulk(new float[count]);
            case FLOAT64 -> bulk(new double[count]);
            case STRING -> {
                String[] a = new String[count];
                for (int i = 0; i < count; i++) {
                    a[i] = string("element " + i + " of array '" + key + "'");
                }
                yield a;
            }
            case ARRAY -> {
                GgufArray[] a = new GgufArray[count];
                for (int i = 0; i < count; i++) {
                    a[i] = array(key, depth + 1);
                }
                yield a;
            }
        };
        return GgufArray.wrap(et, storage);
    }

    /** Fills {@code dst} from the file at the cursor; the caller's count check guarantees the bytes are there. */
    private <A> A bulk(A dst) {
        long bytes = switch (dst) {
            case byte[] a -> copy(ValueLayout.JAVA_BYTE, a, a.length, 1);
            case short[] a -> copy(U16, a, a.length, 2);
            case int[] a -> copy(U32, a, a.length, 4);
            case long[] a -> copy(U64, a, a.length, 8);
            case float[] a -> copy(F32, a, a.length, 4);
            case double[] a -> copy(F64, a, a.length, 8);
            default -> throw new IllegalStateException(dst.getClass().getName());
        };
        pos += bytes;
        return dst;
    }

    private long copy(ValueLayout layout, Object array, int n, int width) {
        long bytes = (long) n * width;
        need(bytes, "array data");
        MemorySegment.copy(seg, layout, pos, array, 0, n);
        return bytes;
    }

    private int alignment(GgufKv kv) {
        if (kv.type() != GgufValueType.UINT32) {
            throw fail("metadata key '" + ALIGNMENT_KEY + "' is " + kv.type() + ", expected UINT32");
        }
        long a = (Long) kv.value();
        if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
            throw fail("metadata key '" + ALIGNMENT_KEY + "' = " + a + " is not a power of two (up to 2^30)");
        }
        return (int) a;
    }

    private GgufTensorInfo tensorInfo(long index) {
        String name = string("name of tensor #" + index);
        String who = "tensor '" + name + "'";
        long at = pos;
        long nDims = u32("n_dims of " + who);
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw fail(who + ": n_dims " + nDims + " at offset " + at + " is outside 1.." + MAX_DIMS);
        }
        long[] ne = new long[(int) nDims];
        // the product of the non-zero dimensions must fit, so that no order of multiplying overflows
        long nonZeroProduct = 1;
        for (int d = 0; d < ne.length; d++) {
            long neAt = pos;
            ne[d] = u64("ne[" + d + "] of " + who);
            if (ne[d] < 0) {
                throw fail(who + ": ne[" + d + "] = " + Long.toUnsignedString(ne[d]) + " at offset " + neAt
                        + " is too large");
            }
            try {
                nonZeroProduct = Math.multiplyExact(nonZeroProduct, Math.max(ne[d], 1));
            } catch (ArithmeticException e) {
                throw fail(who + ": element count of ne " + Arrays.toString(Arrays.copyOf(ne, d + 1))
                        + " overflows 64 bits");
            }
        }
        long elements = Arrays.stream(ne).anyMatch(n -> n == 0) ? 0 : nonZeroProduct;
        long typeAt = pos;
        long typeId = u32("type of " + who);
        DType type = typeId <= Integer.MAX_VALUE ? DType.fromGgmlId((int) typeId) : null;
        if (type == null) {
            throw fail(who + ": unknown ggml type id " + typeId + " at offset " + typeAt);
        }
        long offsetAt = pos;
        long offset = u64("data offset of " + who);
        if (offset < 0) {
            throw fail(who + ": data offset " + Long.toUnsignedString(offset) + " at offset " + offsetAt
                    + " is past any file");
        }
        if (ne[0] % type.blockSize() != 0) {
            throw fail(who + ": ne[0] = " + ne[0] + " is not a multiple of the " + type + " block size "
                    + type.blockSize());
        }
        if (ne[0] > Integer.MAX_VALUE) {
            throw fail(who + ": row length ne[0] = " + ne[0] + " exceeds " + Integer.MAX_VALUE + " elements");
        }
        long bytes;
        try {
            bytes = type.byteSize(elements);
        } catch (ArithmeticException e) {
            throw fail(who + ": byte size of " + elements + " " + type + " elements overflows 64 bits");
        }
        return new GgufTensorInfo(name, type, ne, offset, bytes);
    }

    private void checkTensorPlacement(List<GgufTensorInfo> tensors, int alignment, long dataOffset) {
        if (!tensors.isEmpty() && dataOffset > size) {
            throw fail("data section would start at offset " + dataOffset + ", past the end of the file ("
                    + size + " bytes)");
        }
        for (GgufTensorInfo t : tensors) {
            if (t.offset() % alignment != 0) {
                throw fail("tensor '" + t.name() + "': data offset " + t.offset()
                        + " is not a multiple of the alignment " + alignment);
            }
            long start = dataOffset + t.offset();
            long end = start + t.byteSize();
            if (start < 0 || end < 0 || end > size) {
                throw fail("tensor '" + t.name() + "': data [" + Long.toUnsignedString(start) + ", "
                        + Long.toUnsignedString(end) + ") extends past end of file (" + size + " bytes)");
            }
        }
        List<GgufTensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            GgufTensorInfo prev = byOffset.get(i - 1);
            GgufTensorInfo cur = byOffset.get(i);
            if (cur.offset() < prev.offset() + prev.byteSize()) {
                throw fail("tensor '" + cur.name() + "': data [" + (dataOffset + cur.offset()) + ", "
                        + (dataOffset + cur.offset() + cur.byteSize()) + ") overlaps tensor '" + prev.name()
                        + "' [" + (dataOffset + prev.offset()) + ", " + (dataOffset + prev.offset() + prev.byteSize())
                        + ")");
            }
        }
    }

    private long count(String what, int minBytesEach) {
        long at = pos;
        long n = u64(what);
        long left = size - pos;
        if (n < 0 || n > left / minBytesEach) {
            throw fail(what + " " + Long.toUnsignedString(n) + " at offset " + at + " is absurd: "
                    + "that many entries need at least " + minBytesEach + " bytes each, only " + left + " bytes left");
        }
        return n;
    }

    private String string(String what) {
        long at = pos;
        long len = u64("length of " + what);
        long left = size - pos;
        if (len < 0 || len > left || len > Integer.MAX_VALUE - 8) {
            throw fail("length " + Long.toUnsignedString(len) + " of " + what + " at offset " + at
                    + " exceeds the " + left + " bytes left");
        }
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, 0, bytes.length);
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private long unsigned64(long v, String key) {
        if (v < 0) {
            throw fail("metadata key '" + key + "': UINT64 value " + Long.toUnsignedString(v)
                    + " exceeds " + Long.MAX_VALUE);
        }
        return v;
    }

    private Boolean bool(int b, String key) {
        if (b != 0 && b != 1) {
            throw fail("metadata key '" + key + "': BOOL value is " + b + " at offset " + (pos - 1)
                    + ", expected 0 or 1");
        }
        return b == 1;
    }

    private int u8(String what) {
        need(1, what);
        return seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
    }

    private short u16(String what) {
        need(2, what);
        short v = seg.get(U16, pos);
        pos += 2;
        return v;
    }

    private long u32(String what) {
        need(4, what);
        long v = seg.get(U32, pos) & 0xFFFF_FFFFL;
        pos += 4;
        return v;
    }

    private long u64(String what) {
        need(8, what);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private float f32(String what) {
        need(4, what);
        float v = seg.get(F32, pos);
        pos += 4;
        return v;
    }

    private double f64(String what) {
        need(8, what);
        double v = seg.get(F64, pos);
        pos += 8;
        return v;
    }

    private void need(long n, String what) {
        if (n > size - pos) {
            throw fail("truncated: " + what + " at offset " + pos + " needs " + n + " bytes, only "
                    + (size - pos) + " left (file is " + size + " bytes)");
        }
    }

    private ModelFormatException fail(String message) {
        return new ModelFormatException(origin + ": " + message);
    }

    static long alignUp(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private static String quoteMagic(int magic) {
        StringBuilder sb = new StringBuilder("0x");
        for (int i = 0; i < 4; i++) {
            sb.append(String.format("%02x", (magic >>> (8 * i)) & 0xFF));
        }
        return sb.toString();
    }
}
