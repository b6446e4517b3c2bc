package dev.taipan.runtime.arch.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.runtime.testing.ReferenceLogits;
import dev.taipan.tensor.Shape;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Families without a fixture of their own, checked against llama.cpp's logits of a fixture that a
 * lossless rewrite maps onto them:
 * <ul>
 * <li>{@code granitemoe} from tiny-llama-moe: with neutral scales the Granite stack is the llama
 *     stack; with {@code logit_scale = 4} every logit is divided by 4 (exact in float).</li>
 * <li>{@code qwen2} from stories260K: llama files store q/k rows permuted for the NORMAL RoPE layout
 *     (convert_hf_to_gguf.py {@code LlamaModel.permute}); undoing that permutation gives the same
 *     attention under qwen2's NEOX layout, so the logits must not change. Zero q/k/v biases are
 *     added to exercise their binding.</li>
 * </ul>
 * {@code olmoe} (whole-projection q/k norms) and dense {@code qwen3} have no lossless mapping from a
 * fixture; rewrites of tiny-qwen3moe / stories260K check that they bind and that batch and
 * one-by-one feeding agree.
 */
class DerivedFamiliesTest {
    private static final Path GGUF = FixtureRun.FIXTURES.resolve("gguf");
    private static final Path REAL = FixtureRun.FIXTURES.resolve("real");

    @ParameterizedTest
    @EnumSource(FixtureRun.Feed.class)
    void granitemoeWithNeutralScalesIsLlama(FixtureRun.Feed feed) {
        ReferenceLogits ref = ReferenceLogits.read(GGUF.resolve("tiny-llama-moe-f32.logits.txt"));
        GgufEdit edit = GgufEdit.of(GGUF.resolve("tiny-llama-moe-f32.gguf")).renameArch("granitemoe")
                .set("granitemoe.logit_scale", GgufValueType.FLOAT32, 1f)
                .set("granitemoe.residual_scale", GgufValueType.FLOAT32, 1f)
                .set("granitemoe.embedding_scale", GgufValueType.FLOAT32, 1f)
                .set("granitemoe.attention.scale", GgufValueType.FLOAT32, 0.25f);
        try (FixtureRun run = new FixtureRun(edit.open("granitemoe.gguf"))) {
            ref.assertMatchesF32(run.logits(ref.tokens(), feed), 1e-4);
        }
    }

    @ParameterizedTest
    @EnumSource(FixtureRun.Feed.class)
    void granitemoeLogitScaleDividesLogits(FixtureRun.Feed feed) {
        ReferenceLogits ref = ReferenceLogits.read(GGUF.resolve("tiny-llama-moe-f32.logits.txt"));
        GgufEdit edit = GgufEdit.of(GGUF.resolve("tiny-llama-moe-f32.gguf")).renameArch("granitemoe")
                .set("granitemoe.logit_scale", GgufValueType.FLOAT32, 4f);
        try (FixtureRun run = new FixtureRun(edit.open("granitemoe.gguf"))) {
            float[][] got = run.logits(ref.tokens(), feed);
            for (float[] row : got) {
                for (int i = 0; i < row.length; i++) {
                    row[i] *= 4f;
                }
            }
            ref.assertMatchesF32(got, 1e-4);
        }
    }

    @ParameterizedTest
    @EnumSource(FixtureRun.Feed.class)
    void qwen2WithUnpermutedQkIsStories260k(FixtureRun.Feed feed) {
        ReferenceLogits ref = ReferenceLogits.read(REAL.resolve("logits_once_upon_a_time_there_was_a.txt"));
        int headDim = 8;
        GgufEdit edit = GgufEdit.of(REAL.resolve("stories260K.gguf")).renameArch("qwen2");
        for (int l = 0; l < 5; l++) {
            edit.mapF32("blk." + l + ".attn_q.weight", w -> toNeox(w, 64, headDim));
            edit.mapF32("blk." + l + ".attn_k.weight", w -> toNeox(w, 64, headDim));
            edit.putF32("blk." + l + ".attn_q.bias", Shape.of(64), new float[64]);
            edit.putF32("blk." + l + ".attn_k.bias", Shape.of(32), new float[32]);
            edit.putF32("blk." + l + ".attn_v.bias", Shape.of(32), new float[32]);
        }
        try (FixtureRun run = new FixtureRun(edit.open("qwen2.gguf"))) {
            ref.assertMatchesF32(run.logits(ref.tokens(), feed), 1e-4);
        }
    }

    @Test
    void olmoeBindsWholeProjectionNormsAndBatchEqualsSteps() {
        GgufEdit edit = GgufEdit.of(GGUF.resolve("tiny-qwen3moe-f32.gguf")).renameArch("olmoe")
                .set("olmoe.feed_forward_length", GgufValueType.UINT32, 64L);
        for (int l = 0; l < 2; l++) {
            edit.putF32("blk." + l + ".attn_q_norm.weight", Shape.of(64), ramp(64));
            edit.putF32("blk." + l + ".attn_k_norm.weight", Shape.of(32), ramp(32));
        }
        assertBatchEqualsSteps(edit.open("olmoe.gguf"), "olmoe");
    }

    @Test
    void denseQwen3BindsPerHeadNormsAndBatchEqualsSteps() {
        GgufEdit edit = GgufEdit.of(REAL.resolve("stories260K.gguf")).renameArch("qwen3");
        for (int l = 0; l < 5; l++) {
            edit.putF32("blk." + l + ".attn_q_norm.weight", Shape.of(8), ramp(8));
            edit.putF32("blk." + l + ".attn_k_norm.weight", Shape.of(8), ramp(8));
        }
        assertBatchEqualsSteps(edit.open("qwen3.gguf"), "qwen3");
    }

    private static void assertBatchEqualsSteps(TensorSource source, String arch) {
        int[] tokens = {1, 100, 200, 50, 7, 33, 44, 116, 257, 32};
        try (FixtureRun run = new FixtureRun(source)) {
            assertEquals(arch, run.network().archName());
            float[][] batch = run.logits(tokens, FixtureRun.Feed.BATCH);
            float[][] steps = run.logits(tokens, FixtureRun.Feed.ONE_BY_ONE);
            for (int p = 0; p < tokens.length; p++) {
                for (int v = 0; v < batch[p].length; v++) {
                    assertTrue(Float.isFinite(batch[p][v]));
                    assertEquals(batch[p][v], steps[p][v],
                            1e-5f * Math.max(1f, Math.abs(batch[p][v])), "position " + p + " logit " + v);
                }
            }
        }
    }

    // norm weights 0.5 .. 1.5, so that a wrong element order changes the result
    private static float[] ramp(int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = 0.5f + (float) i / n;
        }
        return w;
    }

    // row h*hd + 2i + j (NORMAL pair i) moves to row h*hd + j*hd/2 + i (NEOX pair i)
    private static float[] toNeox(float[] w, int cols, int headDim) {
        float[] out = new float[w.length];
        int rows = w.length / cols;
        for (int r = 0; r < rows; r++) {
            int h = r / headDim;
            int i = (r % headDim) / 2;
            int j = r % 2;
            int to = h * headDim + j * headDim / 2 + i;
            System.arraycopy(w, r * cols, out, to * cols, cols);
        }
        return out;
    }
}
