package dev.taipan.bench.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import dev.taipan.loaders.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tiny presets of {@link SsmSyntheticModels} load through {@link Taipan#load} with the layer
 * kinds their shape asks for, give finite logits that depend on the input, and decoding token by
 * token gives the logits of one batched prefill: within {@code 1e-4} of the largest logit, or for
 * Q8_0 and Q4_0 within {@code 5e-2}, because decode rounds the activations of those matrices to
 * int8 as llama.cpp does (the repacked kernels) and prefill keeps them in f32; in these random
 * models of 64-wide rows that moves logits by up to about 2.5 % of the largest (how exactly decode
 * then follows llama.cpp is runtime's RepackedWeightsTest, at 1e-4).
 */
class SsmSyntheticModelsTest {
    private static final int[] TOKENS = {5, 17, 299, 0, 42, 7, 123};

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"granitehybrid-tiny, Q8_0", "granitehybrid-tiny, Q4_0", "mamba3-tiny, F32", "mamba3-tiny, Q8_0",
            "llama-tiny, Q8_0"})
    void tinyPresetLoadsAndStepsEqualPrefill(String name, String type) {
        SsmSyntheticModels.Preset preset = SsmSyntheticModels.preset(name);
        Path file = SsmSyntheticModels.ensure(preset, DType.valueOf(type), dir);
        try (Model m = Taipan.load(file, LoadOptions.defaults().withThreads(2).withContextLength(32).withMaxBatch(8))) {
            assertEquals(300, m.vocabSize());
            // the placeholder vocabulary (llama.cpp loads no file without one): bytes fall back to <0xNN>
            Tokenizer tok = m.tokenizer().orElseThrow();
            assertEquals(300, tok.vocabSize());
            int[] ids = tok.encode("A");
            assertEquals("<0x41>", tok.tokenText(ids[ids.length - 1]));
            assertEquals("A", tok.decode(new int[] {3 + 'A'}));
            float[][] batch = m.newSession(Sampling.greedy()).logits(TOKENS);
            Session step = m.newSession(Sampling.greedy());
            float scale = 0;
            float tolerance = type.equals("F32") ? 1e-4f : 5e-2f;
            for (int t = 0; t < TOKENS.length; t++) {
                float[] logits = step.decode(TOKENS[t]);
                for (int v = 0; v < logits.length; v++) {
                    assertTrue(Float.isFinite(batch[t][v]), name + " logit " + v + " at " + t);
                    scale = Math.max(scale, Math.abs(batch[t][v]));
                }
                for (int v = 0; v < logits.length; v++) {
                    assertEquals(batch[t][v], logits[v], tolerance * Math.max(1f, scale),
                            name + " step vs prefill, position " + t + " logit " + v);
                }
            }
            assertTrue(scale > 1e-3f, name + ": logits are all about 0");
            assertTrue(maxDiff(batch[0], batch[1]) > 1e-4f, name + ": logits do not depend on the tokens");
        }
    }

    @Test
    void granitehybridHasAttentionWhereThePresetSaysAndMoeEverywhere() {
        Path file = SsmSyntheticModels.ensure(SsmSyntheticModels.GRANITEHYBRID_TINY, DType.Q8_0, dir);
        try (Model m = Taipan.load(file, LoadOptions.defaults().withThreads(1).withContextLength(16))) {
            List<LayerKind> kinds = m.network().layers().stream().map(DecoderLayer::kind).toList();
            assertEquals(List.of(new LayerKind(LayerKind.Mixer.MAMBA2, LayerKind.Ffn.MOE),
                    new LayerKind(LayerKind.Mixer.ATTENTION, LayerKind.Ffn.MOE),
                    new LayerKind(LayerKind.Mixer.MAMBA2, LayerKind.Ffn.MOE)), kinds);
            assertEquals(DType.Q8_0, m.source().get("blk.0.ssm_in.weight").type());
            assertEquals(DType.F32, m.source().get("blk.0.ssm_conv1d.weight").type());
        }
    }

    @Test
    void mamba3SessionHoldsTheSameStateAtAnyLength() {
        Path file = SsmSyntheticModels.ensure(SsmSyntheticModels.MAMBA3_TINY, DType.F32, dir);
        try (Model m = Taipan.load(file, LoadOptions.defaults().withThreads(1).withContextLength(64))) {
            assertTrue(m.network().layers().stream().allMatch(l -> l.kind().mixer() == LayerKind.Mixer.MAMBA3));
            Session s = m.newSession(Sampling.greedy());
            long before = s.cacheBytes();
            s.prefill(new int[40]);
            assertEquals(before, s.cacheBytes());
            assertTrue(before > 0);
        }
    }

    @Test
    void unknownPresetAndTypeAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> SsmSyntheticModels.preset("nope"));
        assertThrows(IllegalArgumentException.class,
                () -> SsmSyntheticModels.LLAMA_TINY.write(DType.F16, 1, dir.resolve("x.gguf")));
    }

    private static float maxDiff(float[] a, float[] b) {
        float d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
