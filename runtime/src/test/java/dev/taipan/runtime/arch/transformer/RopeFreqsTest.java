package dev.taipan.runtime.arch.transformer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.tensor.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Llama 3.1+ RoPE frequency factors ({@code rope_freqs.weight}, llama.cpp divides each pair's angle
 * by its factor in {@code ggml_rope_ext}): a uniform factor f must give the logits of linear RoPE
 * scaling by f (angle {@code p * theta_i / f} either way; f = 2 divides exactly), factors of 1 the
 * plain logits, and a factor on one pair only must change the logits after position 0.
 */
class RopeFreqsTest {
    private static final Path LLAMA_MOE = FixtureRun.FIXTURES.resolve("gguf/tiny-llama-moe-f32.gguf");
    private static final int[] TOKENS = {1, 7, 33, 2, 90, 41, 5, 12, 60, 3};
    private static final int PAIRS = 8; // head_dim 16 / 2
    /**
     * Logits of one file differ in the last bits between a cold and a warm JVM (float reductions
     * of the Vector API are ordered differently when interpreted and when compiled), so equal here
     * means within 1e-5 absolute (logits of this fixture are within +-10).
     */
    private static final float TOL = 1e-5f;

    private static float[][] logits(GgufEdit edit, String name) {
        try (FixtureRun run = new FixtureRun(edit.open(name))) {
            return run.logits(TOKENS, FixtureRun.Feed.BATCH);
        }
    }

    private static float maxDiff(float[] a, float[] b) {
        float m = 0f;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static float[] filled(float v) {
        float[] f = new float[PAIRS];
        Arrays.fill(f, v);
        return f;
    }

    @Test
    void uniformFactorEqualsLinearScaling() {
        float[][] plain = logits(GgufEdit.of(LLAMA_MOE), "plain.gguf");
        float[][] factors = logits(GgufEdit.of(LLAMA_MOE).putF32("rope_freqs.weight", Shape.of(PAIRS), filled(2f)),
                "factors.gguf");
        float[][] linear = logits(GgufEdit.of(LLAMA_MOE)
                .set("llama.rope.scaling.type", GgufValueType.STRING, "linear")
                .set("llama.rope.scaling.factor", GgufValueType.FLOAT32, 2f), "linear.gguf");
        for (int p = 0; p < TOKENS.length; p++) {
            assertArrayEquals(linear[p], factors[p], TOL, "position " + p);
        }
        assertTrue(maxDiff(plain[TOKENS.length - 1], factors[TOKENS.length - 1]) > 100 * TOL,
                "the factors changed the logits");
    }

    @Test
    void factorsOfOneChangeNothingAndOthersChangeTheLogits() {
        float[][] plain = logits(GgufEdit.of(LLAMA_MOE), "plain.gguf");
        float[][] ones = logits(GgufEdit.of(LLAMA_MOE).putF32("rope_freqs.weight", Shape.of(PAIRS), filled(1f)),
                "ones.gguf");
        float[] lowSlowed = filled(1f);
        lowSlowed[0] = 8f; // the fastest pair (angle = position), eight times slower
        float[][] slowed = logits(GgufEdit.of(LLAMA_MOE).putF32("rope_freqs.weight", Shape.of(PAIRS), lowSlowed),
                "slowed.gguf");
        for (int p = 0; p < TOKENS.length; p++) {
            assertArrayEquals(plain[p], ones[p], TOL, "position " + p);
        }
        // position 0 has angle 0 whatever the factors; later positions see the slowed pair
        assertArrayEquals(plain[0], slowed[0], TOL);
        assertTrue(maxDiff(plain[TOKENS.length - 1], slowed[TOKENS.length - 1]) > 100 * TOL,
                "a factor on one pair changed the logits");
    }
}
