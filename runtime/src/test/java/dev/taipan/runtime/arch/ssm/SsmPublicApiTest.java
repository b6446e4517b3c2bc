package dev.taipan.runtime.arch.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import dev.taipan.runtime.testing.ReferenceLogits;
import dev.taipan.tensor.SessionLimits;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The SSM fixtures through the public API ({@link Taipan#load}, {@link Session}): logits of the
 * whole prompt at once and token by token through {@link Session#decode}, against llama.cpp; and
 * the SSM cache of a pure Mamba-2 session, the same size after 10 and after 1000 tokens.
 */
class SsmPublicApiTest {

    @ParameterizedTest
    @ValueSource(strings = {"mamba2", "granitehybrid", "jamba", "nemotron_h"})
    void loadsThroughTaipanAndMatchesLlamaCpp(String stem) {
        ReferenceLogits ref = ReferenceLogits.read(FixtureRun.fixture("tiny-" + stem + "-f32.logits.txt"));
        int[] tokens = ref.tokens();
        try (Model model = Taipan.load(FixtureRun.fixture("tiny-" + stem + "-f32.gguf"),
                LoadOptions.defaults().withThreads(2))) {
            assertEquals(stem, model.architecture());
            ref.assertMatchesF32(model.newSession(Sampling.greedy()).logits(tokens), FixtureRun.TOL);
            Session s = model.newSession(Sampling.greedy());
            float[][] stepped = new float[tokens.length][];
            for (int t = 0; t < tokens.length; t++) {
                stepped[t] = s.decode(tokens[t]).clone();
            }
            ref.assertMatchesF32(stepped, FixtureRun.TOL);
        }
    }

    @Test
    void mamba2SessionCacheDoesNotGrow() {
        try (Model model = Taipan.load(FixtureRun.fixture("tiny-mamba2-q8_0.gguf"),
                LoadOptions.defaults().withThreads(2))) {
            Session s = model.newSession(Sampling.greedy(), new SessionLimits(64, 2048));
            int[] ten = new int[10];
            for (int i = 0; i < ten.length; i++) {
                ten[i] = (i * 31 + 7) % model.vocabSize();
            }
            s.prefill(ten);
            long after10 = s.cacheBytes();
            int[] more = new int[990];
            for (int i = 0; i < more.length; i++) {
                more[i] = (i * 17 + 3) % model.vocabSize();
            }
            s.prefill(more);
            assertEquals(1000, s.position());
            assertEquals(after10, s.cacheBytes());
            // 2 layers x (conv 3 x 192 + ssm 8 x 16 x 16) floats
            assertEquals(2L * 4 * (3 * 192 + 8 * 16 * 16), after10);
        }
    }
}
