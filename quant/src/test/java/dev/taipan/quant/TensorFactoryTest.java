package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.BF16Tensor;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.F16Tensor;
import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorFactoryTest {

    @Test
    void f32MakesF32Tensor() {
        Tensor t = TensorFactory.create("w", DType.F32, Shape.of(2, 3), MemorySegment.ofArray(new byte[24]));
        assertInstanceOf(F32Tensor.class, t);
        assertEquals("w", t.name());
        assertTrue(TensorFactory.isSupported(DType.F32));
        assertInstanceOf(F16Tensor.class,
                TensorFactory.create("h", DType.F16, Shape.of(2, 3), MemorySegment.ofArray(new byte[12])));
        assertInstanceOf(BF16Tensor.class,
                TensorFactory.create("b", DType.BF16, Shape.of(2, 3), MemorySegment.ofArray(new byte[12])));
    }

    @Test
    void blockFormatsMakeTheirTensorClass() {
        Map<DType, Class<?>> expected = Map.ofEntries(Map.entry(DType.Q8_0, Q8_0Tensor.class),
                Map.entry(DType.Q4_0, Q4_0Tensor.class), Map.entry(DType.Q4_1, Q4_1Tensor.class),
                Map.entry(DType.Q5_0, Q5_0Tensor.class), Map.entry(DType.Q5_1, Q5_1Tensor.class),
                Map.entry(DType.Q2_K, Q2_KTensor.class), Map.entry(DType.Q3_K, Q3_KTensor.class),
                Map.entry(DType.Q4_K, Q4_KTensor.class), Map.entry(DType.Q5_K, Q5_KTensor.class),
                Map.entry(DType.Q6_K, Q6_KTensor.class), Map.entry(DType.IQ4_NL, IQ4_NLTensor.class),
                Map.entry(DType.MXFP4, MXFP4Tensor.class));
        expected.forEach((type, cls) -> {
            Shape shape = Shape.of(3, 2 * type.blockSize());
            Tensor t = TensorFactory.create("w", type, shape,
                    MemorySegment.ofArray(new byte[Math.toIntExact(type.byteSize(shape.elementCount()))]));
            assertInstanceOf(cls, t, type.toString());
            assertEquals(type, t.type());
            assertTrue(TensorFactory.isSupported(type));
        });
    }

    @Test
    void wrongByteSizeNamesTheTensor() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TensorFactory.create("blk.3.attn_q.weight", DType.Q4_K, Shape.of(2, 256),
                        MemorySegment.ofArray(new byte[287])));
        assertTrue(e.getMessage().contains("blk.3.attn_q.weight"), e.getMessage());
        IllegalArgumentException partial = assertThrows(IllegalArgumentException.class,
                () -> TensorFactory.create("tok_embd", DType.Q8_0, Shape.of(2, 48), MemorySegment.ofArray(new byte[102])));
        assertTrue(partial.getMessage().contains("tok_embd"), partial.getMessage());
    }

    @Test
    void rowOutsideTheTensorIsRefused() {
        Tensor t = TensorFactory.create("w", DType.Q8_0, Shape.of(2, 32), MemorySegment.ofArray(new byte[68]));
        assertThrows(IndexOutOfBoundsException.class, () -> t.dot(2, new float[32], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> t.dot(0, new float[31], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> t.row(-1, new float[32], 0));
    }

    @Test
    void unsupportedTypeNamesTensorAndType() {
        UnsupportedTensorTypeException e = assertThrows(UnsupportedTensorTypeException.class,
                () -> TensorFactory.create("blk.0.ffn_up.weight", DType.IQ2_XXS, Shape.of(1, 256),
                        MemorySegment.ofArray(new byte[66])));
        assertTrue(e.getMessage().contains("blk.0.ffn_up.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
        assertEquals(DType.IQ2_XXS, e.type());
        assertFalse(TensorFactory.isSupported(DType.IQ2_XXS));
    }
}
