package dev.taipan.runtime.arch.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.tensor.Shape;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Broken or unsupported files fail at load with a message naming the tensor or key at fault. */
class ArchitectureErrorsTest {
    private static final Path QWEN3MOE = FixtureRun.FIXTURES.resolve("gguf/tiny-qwen3moe-f32.gguf");
    private static final Path QWEN2MOE = FixtureRun.FIXTURES.resolve("gguf/tiny-qwen2moe-f32.gguf");
    private static final Path LLAMA_MOE = FixtureRun.FIXTURES.resolve("gguf/tiny-llama-moe-f32.gguf");

    private static String loadError(GgufEdit edit) {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> new FixtureRun(edit.open("edited.gguf")).close());
        return e.getMessage();
    }

    @Test
    void missingExpertTensorIsNamed() {
        String msg = loadError(GgufEdit.of(QWEN3MOE).dropTensor("blk.1.ffn_up_exps.weight"));
        assertEquals("edited.gguf: missing tensor 'blk.1.ffn_up_exps.weight'", msg);
    }

    @Test
    void missingRequiredOutputIsNamed() {
        String msg = loadError(GgufEdit.of(QWEN2MOE).dropTensor("output.weight"));
        assertTrue(msg.contains("missing tensor 'output.weight'"), msg);
    }

    @Test
    void missingOptionalOutputIsTiedToEmbeddings() {
        try (FixtureRun run = new FixtureRun(GgufEdit.of(QWEN3MOE).dropTensor("output.weight").open("tied.gguf"))) {
            assertSame(run.network().head().tokenEmbd(), run.network().head().output());
        }
    }

    @Test
    void unknownArchitectureIsNamed() {
        String msg = loadError(GgufEdit.of(QWEN3MOE).renameArch("qwen9moe"));
        assertTrue(msg.contains("unsupported architecture 'qwen9moe'"), msg);
    }

    @Test
    void unexpectedTensorIsNamed() {
        String msg = loadError(GgufEdit.of(QWEN3MOE).putF32("blk.0.attn_sinks.weight", Shape.of(4), new float[4]));
        assertTrue(msg.contains("unexpected tensor(s) for this architecture: blk.0.attn_sinks.weight"), msg);
    }

    @Test
    void expertCountDisagreeingWithTensorsNamesBoth() {
        String msg = loadError(GgufEdit.of(QWEN3MOE).set("qwen3moe.expert_count", GgufValueType.UINT32, 3L));
        assertTrue(msg.contains("tensor 'blk.0.ffn_gate_inp.weight' has ne [64, 4], expected [64, 3]"), msg);
    }

    @Test
    void moeFamilyWithoutExpertsIsRejected() {
        String msg = loadError(GgufEdit.of(QWEN3MOE).remove("qwen3moe.expert_count").remove("qwen3moe.expert_used_count"));
        assertTrue(msg.contains("'qwen3moe.expert_count' is missing or 0"), msg);
    }

    @Test
    void moreExpertsUsedThanExistIsRejected() {
        String msg = loadError(GgufEdit.of(LLAMA_MOE).set("llama.expert_used_count", GgufValueType.UINT32, 5L));
        assertTrue(msg.contains("'llama.expert_used_count': 5 experts used of 4"), msg);
    }

    @Test
    void missingRequiredKeyIsNamed() {
        String msg = loadError(GgufEdit.of(QWEN3MOE).remove("qwen3moe.attention.layer_norm_rms_epsilon"));
        assertTrue(msg.contains("missing metadata key 'qwen3moe.attention.layer_norm_rms_epsilon'"), msg);
    }

    @Test
    void headCountsThatDoNotDivideAreRejected() {
        String msg = loadError(GgufEdit.of(LLAMA_MOE).set("llama.attention.head_count_kv", GgufValueType.UINT32, 3L));
        assertTrue(msg.contains("'llama.attention.head_count_kv'"), msg);
    }

    @Test
    void yarnScalingIsRejected() {
        String msg = loadError(GgufEdit.of(QWEN3MOE)
                .set("qwen3moe.rope.scaling.type", GgufValueType.STRING, "yarn")
                .set("qwen3moe.rope.scaling.factor", GgufValueType.FLOAT32, 4f));
        assertTrue(msg.contains("'qwen3moe.rope.scaling.type': YaRN RoPE scaling (factor 4.0) is not supported"), msg);
    }

    @Test
    void partialRotaryDimensionsAreRejected() {
        String msg = loadError(GgufEdit.of(LLAMA_MOE).set("llama.rope.dimension_count", GgufValueType.UINT32, 8L));
        assertTrue(msg.contains("'llama.rope.dimension_count': 8 rotary dimensions"), msg);
    }

    @Test
    void ropeFrequencyFactorsThatAreNotPositiveAreNamed() {
        String msg = loadError(GgufEdit.of(LLAMA_MOE).putF32("rope_freqs.weight", Shape.of(8), new float[8]));
        assertTrue(msg.contains("tensor 'rope_freqs.weight': rope: frequency factor 0 is 0.0"), msg);
    }

    @Test
    void ropeFrequencyFactorsOfTheWrongLengthAreNamed() {
        String msg = loadError(GgufEdit.of(LLAMA_MOE).putF32("rope_freqs.weight", Shape.of(16), new float[16]));
        assertTrue(msg.contains("tensor 'rope_freqs.weight' has ne [16], expected [8]"), msg);
    }

    @Test
    void ropeFrequencyFactorsOfAnArchitectureWithoutThemAreNamed() {
        float[] ones = new float[16];
        java.util.Arrays.fill(ones, 1f);
        String msg = loadError(GgufEdit.of(QWEN3MOE).putF32("rope_freqs.weight", Shape.of(16), ones));
        assertTrue(msg.contains("tensor 'rope_freqs.weight' (RoPE frequency factors) is not supported by architecture 'qwen3moe'"), msg);
    }
}
