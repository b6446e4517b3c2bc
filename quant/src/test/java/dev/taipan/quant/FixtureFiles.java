package dev.taipan.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test-only readers for the fixture files of ../shared/fixtures/quant (copied to
 * src/test/resources/quant): the tensor table of a GGUF v3 file and the header of a safetensors
 * file. Just enough for those files; the real, hardened readers live in the loaders module,
 * which depends on this one. Data are copied into native memory, like a mapped file.
 */
final class FixtureFiles {
    private static final Arena ARENA = Arena.ofAuto();

    /** One stored tensor: ggml type (or null for a safetensors dtype), shape, bytes. */
    record Stored(String name, DType type, String dtype, Shape shape, MemorySegment data) {
    }

    private FixtureFiles() {
    }

    static MemorySegment resource(String path) throws IOException {
        try (InputStream in = FixtureFiles.class.getResourceAsStream("/quant/" + path)) {
            if (in == null) {
                throw new IOException("missing test resource quant/" + path);
            }
            byte[] bytes = in.readAllBytes();
            MemorySegment seg = ARENA.allocate(bytes.length, 64);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, seg, 0, bytes.length);
            return seg;
        }
    }

    /** Tensors of a GGUF v3 file, by name, in file order. */
    static Map<String, Stored> gguf(String path) throws IOException {
        MemorySegment file = resource(path);
        ByteBuffer buf = file.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (buf.getInt() != 0x46554747) {
            throw new IOException(path + ": not a GGUF file");
        }
        int version = buf.getInt();
        if (version != 3) {
            throw new IOException(path + ": GGUF version " + version);
        }
        long nTensors = buf.getLong();
        long nKv = buf.getLong();
        long alignment = 32;
        for (long i = 0; i < nKv; i++) {
            String key = string(buf);
            int valueType = buf.getInt();
            if (key.equals("general.alignment") && valueType == 4) {
                alignment = Integer.toUnsignedLong(buf.getInt());
            } else {
                skipValue(buf, valueType);
            }
        }
        record Info(String name, long[] ne, int type, long offset) {
        }
        Info[] infos = new Info[Math.toIntExact(nTensors)];
        for (int i = 0; i < infos.length; i++) {
            String name = string(buf);
            long[] ne = new long[buf.getInt()];
            for (int k = 0; k < ne.length; k++) {
                ne[k] = buf.getLong();
            }
            infos[i] = new Info(name, ne, buf.getInt(), buf.getLong());
        }
        long dataStart = (buf.position() + alignment - 1) / alignment * alignment;
        Map<String, Stored> out = new LinkedHashMap<>();
        for (Info info : infos) {
            DType type = DType.fromGgmlId(info.type());
            Shape shape = Shape.fromGgml(info.ne());
            long size = type.byteSize(shape.elementCount());
            out.put(info.name(), new Stored(info.name(), type, type.name(), shape,
                    file.asSlice(dataStart + info.offset(), size)));
        }
        return out;
    }

    /** Tensors of a safetensors file, by name. */
    static Map<String, Stored> safetensors(String path) throws IOException {
        MemorySegment file = resource(path);
        long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        byte[] header = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root = new ObjectMapper().readTree(new String(header, StandardCharsets.UTF_8));
        long dataStart = 8 + headerLength;
        Map<String, Stored> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            JsonNode t = e.getValue();
            long[] dims = new long[t.get("shape").size()];
            for (int k = 0; k < dims.length; k++) {
                dims[k] = t.get("shape").get(k).asLong();
            }
            long begin = t.get("data_offsets").get(0).asLong();
            long end = t.get("data_offsets").get(1).asLong();
            out.put(e.getKey(), new Stored(e.getKey(), null, t.get("dtype").asText(), Shape.of(dims),
                    file.asSlice(dataStart + begin, end - begin)));
        }
        return out;
    }

    /** F32 safetensors data as floats. */
    static float[] floats(Stored s) {
        return s.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    /** F64 safetensors data as doubles. */
    static double[] doubles(Stored s) {
        return s.data().toArray(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    private static String string(ByteBuffer buf) {
        byte[] b = new byte[Math.toIntExact(buf.getLong())];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static void skipValue(ByteBuffer buf, int type) {
        switch (type) {
            case 0, 1, 7 -> buf.position(buf.position() + 1);
            case 2, 3 -> buf.position(buf.position() + 2);
            case 4, 5, 6 -> buf.position(buf.position() + 4);
            case 10, 11, 12 -> buf.position(buf.position() + 8);
            case 8 -> string(buf);
            case 9 -> {
                int elemType = buf.getInt();
                long n = buf.getLong();
                for (long i = 0; i < n; i++) {
                    skipValue(buf, elemType);
                }
            }
            default -> throw new IllegalStateException("GGUF value type " + type);
        }
    }
}
