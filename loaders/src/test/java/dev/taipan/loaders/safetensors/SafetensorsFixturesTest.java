package dev.taipan.loaders.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.HfConfig;
import dev.taipan.loaders.ModelFiles;
import dev.taipan.loaders.Resources;
import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufTensorInfo;
import dev.taipan.quant.TensorFactory;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The shared safetensors fixtures parse, with the names and shapes their READMEs list. */
class SafetensorsFixturesTest {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble LE_DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Pattern README_KEY = Pattern.compile("^  (\\S+) \\[([\\d, ]*)\\]$");

    private record Listed(String name, Shape shape) {
    }

    private static List<Listed> readmeKeys(Path readme) throws IOException {
        List<Listed> out = new ArrayList<>();
        for (String line : Files.readAllLines(readme, StandardCharsets.UTF_8)) {
            Matcher m = README_KEY.matcher(line);
            if (m.matches()) {
                long[] dims = Arrays.stream(m.group(2).split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
                out.add(new Listed(m.group(1), Shape.of(dims)));
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"siso_softplus_f32", "mimo2_outnorm_heavytail_bf16", "siso_heavytail_rope1_g2_f32"})
    void mamba3ModelsMatchReadme(String name) throws IOException {
        Path dir = Resources.path("mamba3/" + name);
        DType expected = name.endsWith("bf16") ? DType.BF16 : DType.F32;
        List<Listed> listed = readmeKeys(dir.resolve("README.txt"));
        assertTrue(listed.size() >= 20, "README lists " + listed.size());
        try (TensorSource src = ModelFiles.open(dir)) {
            SafetensorsSource st = assertInstanceOf(SafetensorsSource.class, src);
            assertEquals(listed.size(), st.names().size());
            for (Listed l : listed) {
                SafetensorsTensorInfo info = st.tensorInfo(l.name()).orElseThrow(() -> new AssertionError(l.name()));
                assertEquals(l.shape(), info.shape(), l.name());
                assertEquals(expected, info.dtype(), l.name());
                if (TensorFactory.isSupported(expected)) {
                    assertEquals(l.shape(), st.get(l.name()).shape());
                }
            }
            HfConfig config = st.config().orElseThrow();
            assertEquals("mamba3", config.modelType());
            assertEquals(List.of("Mamba3ForCausalLM"), config.architectures());
            assertEquals(2, config.getInt("num_hidden_layers"));
            long vocab = config.getInt("vocab_size");
            long hidden = config.getInt("hidden_size");
            assertEquals(Shape.of(vocab, hidden), st.tensorInfo("backbone.embeddings.weight").orElseThrow().shape());
            checkFinalState(dir.resolve("final_state.safetensors"), config);
        }
    }

    /** final_state.safetensors: per layer ssm_state (H,P,N), angle_state (H,S), k_state (R,H,N), v_state (H,P), F32. */
    private static void checkFinalState(Path file, HfConfig c) {
        int h = c.getInt("num_heads");
        int p = c.getInt("head_dim");
        int n = c.getInt("state_size");
        int r = c.getBool("is_mimo") ? c.getInt("mimo_rank") : 1;
        int s = (int) (n * c.getDouble("rope_fraction")) / 2;
        try (SafetensorsSource st = SafetensorsSource.open(file)) {
            assertEquals(4 * c.getInt("num_hidden_layers"), st.names().size());
            for (int layer = 0; layer < c.getInt("num_hidden_layers"); layer++) {
                String pre = "layers." + layer + ".";
                assertEquals(Shape.of(h, p, n), st.tensorInfo(pre + "ssm_state").orElseThrow().shape());
                assertEquals(Shape.of(h, s), st.tensorInfo(pre + "angle_state").orElseThrow().shape());
                assertEquals(Shape.of(r, h, n), st.tensorInfo(pre + "k_state").orElseThrow().shape());
                assertEquals(Shape.of(h, p), st.tensorInfo(pre + "v_state").orElseThrow().shape());
            }
            for (SafetensorsTensorInfo info : st.tensorInfos()) {
                assertEquals(DType.F32, info.dtype(), info.name());
            }
        }
    }

    /**
     * quant_matrices.gguf's F32/F16/BF16 tensors hold exactly the values of dequantized.safetensors
     * (two readers, two formats, one set of numbers); every quantized tensor has the listed type.
     */
    @Test
    void quantMatricesAgreeAcrossFormats() {
        try (GgufFile g = GgufFile.open(Resources.path("quant/quant_matrices.gguf"));
                SafetensorsSource deq = SafetensorsSource.open(Resources.path("quant/dequantized.safetensors"))) {
            assertEquals("quanttest", g.metadata().getString("general.architecture"));
            assertEquals(60, g.tensorInfos().size());
            assertEquals(60, deq.names().size());
            for (GgufTensorInfo t : g.tensorInfos()) {
                String type = t.name().substring(0, t.name().indexOf('.'));
                assertEquals(type.toUpperCase(Locale.ROOT), t.type().name(), t.name());
                assertEquals(Shape.of(8, 512), t.shape(), t.name());
                SafetensorsTensorInfo d = deq.tensorInfo(t.name()).orElseThrow();
                assertEquals(DType.F32, d.dtype());
                assertEquals(Shape.of(8, 512), d.shape());
                MemorySegment raw = g.tensorData(t.name()).orElseThrow();
                MemorySegment ref = deq.tensorData(t.name()).orElseThrow();
                if (t.type() == DType.F32 || t.type() == DType.F16 || t.type() == DType.BF16) {
                    float[] got = new float[8 * 512];
                    for (int i = 0; i < got.length; i++) {
                        got[i] = switch (t.type()) {
                            case F32 -> raw.get(LE_FLOAT, 4L * i);
                            case F16 -> Float.float16ToFloat(raw.get(LE_SHORT, 2L * i));
                            default -> Float.intBitsToFloat(raw.get(LE_SHORT, 2L * i) << 16);
                        };
                    }
                    assertArrayEquals(ref.toArray(LE_FLOAT), got, t.name());
                }
            }
        }
    }

    /** matvec.safetensors (F32 x, F64 y): y.f32.m equals the float64 product of the GGUF's f32.m with x. */
    @Test
    void matvecReferenceMatchesGgufF32Matrices() {
        try (GgufFile g = GgufFile.open(Resources.path("quant/quant_matrices.gguf"));
                SafetensorsSource mv = SafetensorsSource.open(Resources.path("quant/matvec.safetensors"))) {
            assertEquals(61, mv.names().size());
            SafetensorsTensorInfo xInfo = mv.tensorInfo("x").orElseThrow();
            assertEquals(DType.F32, xInfo.dtype());
            float[] x = mv.tensorData("x").orElseThrow().toArray(LE_FLOAT);
            for (String m : List.of("normal", "outliers", "rowscales", "uniform")) {
                SafetensorsTensorInfo yInfo = mv.tensorInfo("y.f32." + m).orElseThrow();
                assertEquals(DType.F64, yInfo.dtype());
                assertEquals(Shape.of(8), yInfo.shape());
                double[] y = mv.tensorData("y.f32." + m).orElseThrow().toArray(LE_DOUBLE);
                float[] w = g.tensorData("f32." + m).orElseThrow().toArray(LE_FLOAT);
                for (int r = 0; r < 8; r++) {
                    double sum = 0;
                    double scale = 0;
                    for (int c = 0; c < 512; c++) {
                        double p = (double) w[r * 512 + c] * x[c];
                        sum += p;
                        scale += Math.abs(p);
                    }
                    assertEquals(y[r], sum, 1e-12 * Math.max(scale, 1e-30), m + " row " + r);
                }
            }
            assertFalse(mv.names().contains("__metadata__"));
        }
    }
}
