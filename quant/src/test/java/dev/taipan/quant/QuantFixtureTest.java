package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The quant fixtures (../shared/fixtures/quant, made with ggml's own quantizers from llama.cpp
 * 34af94cd): 4 matrices of 8 x 512 stored as F32 and in 14 types, their dequantized values and
 * float64 mat-vec results.
 *
 * <p>Mat-vec tolerance, the same for every format because every kernel dequantizes the weights
 * exactly and then computes in float: {@code |y - yRef| <= 1e-6 * sum_i |w_i x_i|} (float
 * accumulation over 512 products; the worst observed ratio is printed by the test).
 */
class QuantFixtureTest {
    private static final double MATVEC_TOLERANCE = 1e-6;
    private static final Set<DType> BLOCK_FORMATS = EnumSet.of(DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0,
            DType.Q5_1, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.IQ4_NL, DType.MXFP4);

    private static Map<String, FixtureFiles.Stored> quantized;
    private static Map<String, FixtureFiles.Stored> dequantized;
    private static Map<String, FixtureFiles.Stored> matvec;

    @BeforeAll
    static void load() throws IOException {
        quantized = FixtureFiles.gguf("quant_matrices.gguf");
        dequantized = FixtureFiles.safetensors("dequantized.safetensors");
        matvec = FixtureFiles.safetensors("matvec.safetensors");
    }

    private static Tensor tensor(FixtureFiles.Stored s) {
        return TensorFactory.create(s.name(), s.type(), s.shape(), s.data());
    }

    @Test
    void fixtureHoldsEveryBlockFormat() {
        Set<DType> seen = EnumSet.noneOf(DType.class);
        quantized.values().forEach(s -> seen.add(s.type()));
        assertTrue(seen.containsAll(BLOCK_FORMATS), "fixture types " + seen);
        assertEquals(60, quantized.size());
    }

    @Test
    void everyTensorDequantizesToTheStoredValues() {
        Set<DType> checked = EnumSet.noneOf(DType.class);
        for (FixtureFiles.Stored s : quantized.values()) {
            if (!TensorFactory.isSupported(s.type()) || s.type() == DType.F32) {
                continue;
            }
            Tensor t = tensor(s);
            assertEquals(Shape.of(8, 512), t.shape(), s.name());
            float[] expected = FixtureFiles.floats(dequantized.get(s.name()));
            float[] row = new float[512 + 3];
            for (int r = 0; r < 8; r++) {
                t.row(r, row, 3);
                for (int c = 0; c < 512; c++) {
                    int i = r * 512 + c;
                    if (Float.floatToRawIntBits(row[3 + c]) != Float.floatToRawIntBits(expected[i])) {
                        fail(s.name() + " row " + r + " col " + c + ": " + row[3 + c] + " != " + expected[i]);
                    }
                    if (i % 13 == 0 && Float.floatToRawIntBits(t.get(i)) != Float.floatToRawIntBits(expected[i])) {
                        fail(s.name() + " get(" + i + "): " + t.get(i) + " != " + expected[i]);
                    }
                }
            }
            checked.add(s.type());
        }
        assertTrue(checked.containsAll(BLOCK_FORMATS), "checked " + checked);
    }

    @Test
    void dotAndMatvecMatchFloat64Reference() {
        float[] x = FixtureFiles.floats(matvec.get("x"));
        double worst = 0;
        String worstName = "";
        int checkedTensors = 0;
        try (Parallel one = Parallel.create(1); Parallel two = Parallel.create(2)) {
            for (FixtureFiles.Stored s : quantized.values()) {
                if (!TensorFactory.isSupported(s.type())) {
                    continue;
                }
                Tensor t = tensor(s);
                double[] yRef = FixtureFiles.doubles(matvec.get("y." + s.name()));
                float[] w = FixtureFiles.floats(s.type() == DType.F32 ? s : dequantized.get(s.name()));
                float[] y1 = new float[8];
                float[] y2 = new float[8];
                t.matvec(y1, x, one);
                t.matvec(y2, x, two);
                for (int r = 0; r < 8; r++) {
                    double scale = 0;
                    for (int c = 0; c < 512; c++) {
                        scale += Math.abs((double) w[r * 512 + c] * x[c]);
                    }
                    double bound = MATVEC_TOLERANCE * scale + Double.MIN_NORMAL;
                    float[] got = {t.dot(r, x, 0), t.dotScalar(r, x, 0), y1[r], y2[r]};
                    for (float g : got) {
                        double err = Math.abs(g - yRef[r]);
                        assertTrue(err <= bound, s.name() + " row " + r + ": " + g + " vs " + yRef[r]
                                + " (|diff| " + err + " > " + bound + ")");
                        if (scale > 0 && err / scale > worst) {
                            worst = err / scale;
                            worstName = s.name() + " row " + r;
                        }
                    }
                    assertEquals(y1[r], y2[r], s.name() + ": thread count changed the result");
                }
                checkedTensors++;
            }
        }
        System.out.printf("quant fixture matvec: %d tensors, worst |diff| / sum|w x| = %.3g (%s)%n",
                checkedTensors, worst, worstName);
        assertTrue(checkedTensors >= 52, "checked " + checkedTensors);
    }
}
