package dev.taipan.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.quant.RepackedTensor;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.LayerKind.Ffn;
import dev.taipan.runtime.arch.LayerKind.Mixer;
import dev.taipan.tensor.DType;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link ModelInfo} on tiny MoE fixtures, checked against gguf-py's tensor listing of the same
 * files ({@code <stem>.tensors.txt}: index, element count, ne, type, name) and the hyperparameters
 * in their {@code .kv.txt} (4 experts, 2 used; head_dim 16).
 */
class ModelInfoTest {
    private static final int EXPERTS = 4;
    private static final int USED = 2;

    /** One line of a tensors.txt listing. */
    private record Listed(long elements, String type, String name) {
    }

    private static List<Listed> listing(String stem) throws IOException, URISyntaxException {
        return Files.readAllLines(SessionTest.fixture("gguf/" + stem + ".tensors.txt")).stream()
                .filter(l -> !l.startsWith("*"))
                .map(l -> l.split("\\|"))
                .map(c -> new Listed(Long.parseLong(c[0].substring(c[0].indexOf(':') + 1).strip()), c[2].strip(),
                        c[3].strip()))
                .toList();
    }

    private static long bytesOf(Listed t) {
        return switch (t.type()) {
            case "F32" -> 4 * t.elements();
            case "Q8_0" -> t.elements() / 32 * 34;
            default -> throw new AssertionError(t);
        };
    }

    private static void assertParametersAndTypes(ModelInfo info, List<Listed> listed) {
        long total = listed.stream().mapToLong(Listed::elements).sum();
        long routed = listed.stream().filter(t -> t.name().contains("_exps.")).mapToLong(Listed::elements).sum();
        assertEquals(total, info.parameters().total());
        assertEquals(total - routed + routed / EXPERTS * USED, info.parameters().active());
        assertTrue(info.parameters().isMoe());
        Map<String, long[]> expected = new TreeMap<>();
        for (Listed t : listed) {
            long[] c = expected.computeIfAbsent(t.type(), k -> new long[3]);
            c[0]++;
            c[1] += t.elements();
            c[2] += bytesOf(t);
        }
        assertEquals(expected.size(), info.tensorTypes().size());
        for (ModelInfo.TypeCount tc : info.tensorTypes()) {
            long[] c = expected.get(tc.type().name());
            assertEquals(c[0], tc.tensors(), tc.type().name());
            assertEquals(c[1], tc.params(), tc.type().name());
            assertEquals(c[2], tc.bytes(), tc.type().name());
        }
        assertEquals(listed.stream().mapToLong(ModelInfoTest::bytesOf).sum(), info.memory().weightBytes());
    }

    @Test
    void qwen2moeCountsEveryTensorAndTwoOfFourExperts() throws Exception {
        try (Model model = Taipan.load(SessionTest.fixture("gguf/tiny-qwen2moe-f32.gguf"),
                LoadOptions.defaults().withThreads(1))) {
            ModelInfo info = model.info();
            assertEquals("qwen2moe", info.architecture());
            assertEquals("tiny-qwen2moe", info.name());
            assertParametersAndTypes(info, listing("tiny-qwen2moe-f32"));
            assertEquals(List.of(DType.F32), info.tensorTypes().stream().map(ModelInfo.TypeCount::type).toList());
            assertEquals(37, info.tensorTypes().getFirst().tensors());
            assertEquals(List.of(new ModelInfo.LayerRun(0, 2, new LayerKind(Mixer.ATTENTION, Ffn.MOE))),
                    info.layers());
            assertEquals(2, info.parameters().moeLayers());
            assertEquals(new ModelInfo.Context(4096, 4096), info.context());
            // 2 layers x (K and V) x 2 kv heads x head_dim 16 x 4 bytes per token, nothing fixed
            assertEquals(2 * 2 * 2 * 16 * 4, info.memory().cacheBytesPerToken());
            assertEquals(0, info.memory().cacheBytesFixed());
            assertEquals(model.newSession(Sampling.greedy()).cacheBytes(), info.memory().cacheBytes(4096));
            ModelInfo.TokenizerSummary tok = info.tokenizer().orElseThrow();
            assertEquals(new ModelInfo.TokenizerSummary(Tokenizer.Kind.BYTE_LEVEL_BPE, 262, "<|endoftext|>",
                    "<|endoftext|>", false), tok);
        }
    }

    @Test
    void graniteHybridQ8HasMambaStatesAndOneKvCache() throws Exception {
        try (Model model = Taipan.load(SessionTest.fixture("gguf/tiny-granitehybrid-q8_0.gguf"),
                LoadOptions.defaults().withThreads(1).withContextLength(100))) {
            ModelInfo info = model.info();
            assertParametersAndTypes(info, listing("tiny-granitehybrid-q8_0"));
            assertEquals(DType.Q8_0, info.tensorTypes().getFirst().type());
            LayerKind ssm = new LayerKind(Mixer.MAMBA2, Ffn.MOE);
            assertEquals(List.of(new ModelInfo.LayerRun(0, 1, ssm),
                    new ModelInfo.LayerRun(1, 1, new LayerKind(Mixer.ATTENTION, Ffn.MOE)),
                    new ModelInfo.LayerRun(2, 2, ssm)), info.layers());
            assertEquals(new ModelInfo.Context(4096, 100), info.context());
            // Mamba-2 state per layer: conv (d_conv - 1) x (d_inner + 2 n_group d_state) and ssm
            // n_heads x head_dim x d_state, floats; 3 such layers.
            long mamba = 4L * (3 * (128 + 2 * 2 * 16) + 8 * 16 * 16);
            assertEquals(3 * mamba, info.memory().cacheBytesFixed());
            assertEquals(2 * 2 * 16 * 4, info.memory().cacheBytesPerToken());
            assertEquals(model.newSession(Sampling.greedy()).cacheBytes(), info.memory().cacheBytes(100));
            assertFalse(info.tokenizer().orElseThrow().hasChatTemplate());
            // the decode copy: the bytes of the repacked tensors this (default) load made
            long copied = 0;
            for (String name : model.source().names()) {
                if (model.source().get(name) instanceof RepackedTensor r) {
                    copied += r.packed().byteSize();
                }
            }
            assertTrue(copied > 0);
            assertEquals(copied, info.memory().decodeCopyBytes());
            assertEquals(info.memory().weightBytes() + copied + info.memory().cacheBytes(100),
                    info.memory().totalBytes(100));
            // a mapped load reports what a default one would copy
            try (Model mapped = Taipan.load(SessionTest.fixture("gguf/tiny-granitehybrid-q8_0.gguf"), LoadOptions
                    .defaults().withThreads(1).withContextLength(100).withWeights(LoadOptions.WeightLayout.MAPPED))) {
                assertEquals(copied, mapped.info().memory().decodeCopyBytes());
            }
        }
    }

    @Test
    void f32ModelsHaveNoDecodeCopy() throws Exception {
        try (Model model = Taipan.load(SessionTest.fixture("gguf/tiny-qwen2moe-f32.gguf"),
                LoadOptions.defaults().withThreads(1))) {
            assertEquals(0, model.info().memory().decodeCopyBytes());
        }
    }
}
