package dev.taipan.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.F32Tensor;
import dev.taipan.tensor.Shape;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class TensorFactoryTest {

    @Test
    void f32MakesF32Tensor() {
        Tensor t = TensorFactory.create("w", DType.F32, Shape.of(2, 3), MemorySegment.ofArray(new byte[24]));
        assertInstanceOf(F32Tensor.class, t);
        assertEquals("w", t.name());
        assertTrue(TensorFactory.isSupported(DType.F32));
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
