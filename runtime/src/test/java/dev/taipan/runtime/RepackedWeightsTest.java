package dev.taipan.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.taipan.quant.RepackedTensor;
import dev.taipan.runtime.testing.ReferenceLogits;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Tensor;
import java.net.URISyntaxException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Both weight layouts of {@link LoadOptions.WeightLayout} through the public API, on the tiny
 * Q8_0 MoE fixtures (fixtures/README.md §1), logits at all 32 positions, with the tokens fed one at
 * a time (maxBatch 1: decode) and as one prefill batch. {@code MAPPED} weights compute with float
 * activations (the mapped kernels, and the tiled path in prefill) and compare with llama.cpp on the
 * exactly dequantized weights ({@code -q8_0.deq-logits.txt}, F32 tolerance 1e-4 * max(1,
 * max|logit|)); {@code REPACKED} weights, whose kernels round the activations to int8 with fp16
 * block scales as ggml does in decode and in prefill alike, compare with llama.cpp's own Q8_0
 * logits ({@code -q8_0.logits.txt}) at the same F32 tolerance. With {@code REPACKED} the attention and expert
 * matrices and the 262-row output (padded to whole row groups) are bound as
 * {@link RepackedTensor}s, while the embedding stays mapped; with {@code MAPPED} nothing is.
 * No Q4_0 model fixture exists; Q4_0 repacking is covered in quant's RepackedTensorTest, and end to
 * end by benchmarks' SsmSyntheticModelsTest (Q4_0 decode against prefill).
 */
class RepackedWeightsTest {

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String stem : new String[] {"tiny-llama-moe", "tiny-qwen2moe"}) {
            for (LoadOptions.WeightLayout layout : LoadOptions.WeightLayout.values()) {
                for (int maxBatch : new int[] {1, 64}) {
                    b.add(Arguments.of(stem, layout, maxBatch));
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {1} maxBatch {2}")
    @MethodSource("cases")
    void logitsEqualLlamaCppInBothLayouts(String stem, LoadOptions.WeightLayout layout, int maxBatch)
            throws URISyntaxException {
        boolean int8 = layout == LoadOptions.WeightLayout.REPACKED;
        ReferenceLogits ref = ReferenceLogits.read(SessionTest.fixture("gguf/" + stem
                + (int8 ? "-q8_0.logits.txt" : "-q8_0.deq-logits.txt")));
        LoadOptions options = LoadOptions.defaults().withThreads(2).withMaxBatch(maxBatch).withWeights(layout);
        try (Model model = Taipan.load(SessionTest.fixture("gguf/" + stem + "-q8_0.gguf"), options)) {
            assertBound(model, layout);
            Session session = model.newSession(Sampling.greedy());
            ref.assertMatchesF32(session.logits(ref.tokens()), 1e-4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stems")
    void repackedIsTheDefault(String stem) throws URISyntaxException {
        assertEquals(LoadOptions.WeightLayout.REPACKED, LoadOptions.defaults().weights());
        try (Model model = Taipan.load(SessionTest.fixture("gguf/" + stem + "-q8_0.gguf"),
                LoadOptions.defaults().withThreads(1))) {
            assertBound(model, LoadOptions.WeightLayout.REPACKED);
        }
    }

    static Stream<String> stems() {
        return Stream.of("tiny-llama-moe", "tiny-qwen2moe");
    }

    /** Which tensors the model's source hands out repacked under {@code layout}. */
    private static void assertBound(Model model, LoadOptions.WeightLayout layout) {
        boolean repacked = layout == LoadOptions.WeightLayout.REPACKED;
        for (String name : new String[] {"blk.0.attn_q.weight", "blk.1.attn_k.weight", "blk.0.attn_output.weight",
                "blk.1.ffn_down_exps.weight"}) {
            Tensor t = model.source().get(name);
            assertEquals(DType.Q8_0, t.type(), name);
            if (repacked) {
                RepackedTensor r = assertInstanceOf(RepackedTensor.class, t, name);
                assertEquals(RepackedTensor.packedBytes(r), r.packed().byteSize(), name);
                assertSame(t, model.source().get(name), name + " is repacked once");
            } else {
                assertFalse(t instanceof RepackedTensor, name + " repacked with MAPPED weights");
            }
        }
        Tensor output = model.source().get("output.weight");
        assertEquals(262, output.shape().dim(0));
        if (repacked) {
            RepackedTensor r = assertInstanceOf(RepackedTensor.class, output, "output.weight");
            long groups = (262 + r.rowsPerGroup() - 1) / r.rowsPerGroup();
            assertEquals(groups * r.rowsPerGroup() * output.shape().cols() / 32 * 34, r.packed().byteSize(),
                    "output.weight padded to whole groups of " + r.rowsPerGroup() + " rows");
        } else {
            assertFalse(output instanceof RepackedTensor, "output.weight repacked with MAPPED weights");
        }
        assertFalse(model.source().get("token_embd.weight") instanceof RepackedTensor,
                "the embedding is read a row at a time and stays mapped");
        assertFalse(model.source().get("blk.0.attn_norm.weight") instanceof RepackedTensor, "F32 norm");
    }
}
