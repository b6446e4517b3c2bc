package dev.taipan.runtime.arch.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.testing.ReferenceLogits;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tiny random-weight MoE fixtures (fixtures/gguf, README §1) against llama.cpp's logits at
 * every position, F32 tolerance 1e-4 * max(1, max|logit|) and the same argmax. F32 files compare
 * with {@code -f32.logits.txt}; Q8_0 files with {@code -q8_0.deq-logits.txt}, llama.cpp on the
 * exactly dequantized weights, since we dequantize weights and compute in float.
 */
class TinyMoeFixturesTest {
    private static final Path GGUF = FixtureRun.FIXTURES.resolve("gguf");

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String stem : new String[] {"tiny-llama-moe", "tiny-qwen3moe", "tiny-qwen2moe"}) {
            for (FixtureRun.Feed feed : FixtureRun.Feed.values()) {
                b.add(Arguments.of(stem + "-f32.gguf", stem + "-f32.logits.txt", feed));
                b.add(Arguments.of(stem + "-q8_0.gguf", stem + "-q8_0.deq-logits.txt", feed));
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void logitsEqualLlamaCpp(String model, String reference, FixtureRun.Feed feed) {
        ReferenceLogits ref = ReferenceLogits.read(GGUF.resolve(reference));
        try (FixtureRun run = new FixtureRun(GGUF.resolve(model))) {
            assertEquals(2, run.network().layers().size());
            for (var layer : run.network().layers()) {
                assertEquals(new LayerKind(LayerKind.Mixer.ATTENTION, LayerKind.Ffn.MOE), layer.kind());
            }
            ref.assertMatchesF32(run.logits(ref.tokens(), feed), 1e-4);
        }
    }
}
