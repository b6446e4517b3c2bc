package dev.taipan.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.taipan.opencl.OpenClBackend;
import dev.taipan.opencl.OpenClDevices;
import dev.taipan.opencl.OpenClTensor;
import dev.taipan.runtime.testing.ReferenceLogits;
import dev.taipan.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Layers offloaded to OpenCL ({@link LoadOptions#withGpuLayers}) give the CPU backend's logits:
 * every layer and the output matrix on the device, the GGUF fixtures (README §1) F32 and Q8_0, MoE
 * and hybrid, fed as one batch (device matmul) and token by token (device matvec), within the
 * fixtures' F32 tolerance 1e-4 * max(1, max|logit|) of both the CPU run and llama.cpp's logits. The
 * device computes with f32 activations, so the CPU run it is held to uses the mapped weights
 * ({@link LoadOptions.WeightLayout#MAPPED}); the default repacked decode rounds Q8_0 activations to
 * int8 as llama.cpp's CPU backend does (RepackedWeightsTest).
 * Runs on any OpenCL platform (PoCL in CI) and skips, saying why, where there is none.
 */
class OffloadTest {
    private static final Path GGUF = Path.of("src/test/resources/fixtures/gguf");
    private static final double TOL = 1e-4;

    private static final OpenClDevices.Probe PROBE = OpenClDevices.probe();

    @BeforeEach
    void needsOpenCl() {
        assumeTrue(PROBE.available(), () -> "skipped: no OpenCL platform (" + PROBE.reason() + ")");
    }

    private static LoadOptions options(int gpuLayers) {
        return LoadOptions.defaults().withThreads(2).withContextLength(64).withGpuLayers(gpuLayers);
    }

    /** Logits at every position: one batch, or one token per forward pass. */
    private static float[][] logits(Model model, int[] tokens, boolean stepwise) {
        Session s = model.newSession(Sampling.greedy());
        if (!stepwise) {
            return s.logits(tokens);
        }
        float[][] out = new float[tokens.length][];
        for (int p = 0; p < tokens.length; p++) {
            out[p] = s.logits(new int[] {tokens[p]})[0];
        }
        return out;
    }

    @ParameterizedTest(name = "{0} vs {1}")
    @CsvSource({
        "tiny-qwen3moe-f32.gguf, tiny-qwen3moe-f32.logits.txt",
        "tiny-qwen3moe-q8_0.gguf, tiny-qwen3moe-q8_0.deq-logits.txt",
        "tiny-llama-moe-f32.gguf, tiny-llama-moe-f32.logits.txt",
        "tiny-llama-moe-q8_0.gguf, tiny-llama-moe-q8_0.deq-logits.txt",
        "tiny-granitehybrid-f32.gguf, tiny-granitehybrid-f32.logits.txt",
        "tiny-granitehybrid-q8_0.gguf, tiny-granitehybrid-q8_0.deq-logits.txt",
    })
    void allLayersOffloadedMatchTheCpuAndLlamaCpp(String model, String reference) {
        ReferenceLogits ref = ReferenceLogits.read(GGUF.resolve(reference));
        int[] tokens = ref.tokens();
        float[][] cpuBatch;
        float[][] cpuSteps;
        try (Model cpu = Taipan.load(GGUF.resolve(model), options(0).withWeights(LoadOptions.WeightLayout.MAPPED))) {
            assertFalse(cpu.source().find("blk.0.ffn_down_exps.weight").orElse(cpu.source().get("output.weight"))
                    instanceof OpenClTensor, "gpu layers 0 places nothing on the device");
            cpuBatch = logits(cpu, tokens, false);
            cpuSteps = logits(cpu, tokens, true);
        }
        try (Model dev = Taipan.load(GGUF.resolve(model), options(99))) {
            assertInstanceOf(OpenClTensor.class, dev.source().get("output.weight"));
            float[][] batch = logits(dev, tokens, false);
            float[][] steps = logits(dev, tokens, true);
            assertClose(model + " batch", cpuBatch, batch);
            assertClose(model + " steps", cpuSteps, steps);
            ref.assertMatchesF32(batch, TOL);
            ref.assertMatchesF32(steps, TOL);
        }
    }

    /** The fixture rule with the CPU run as the reference: max|diff| <= 1e-4 * max(1, max|cpu|), same argmax. */
    private static void assertClose(String what, float[][] cpu, float[][] dev) {
        assertEquals(cpu.length, dev.length, what);
        for (int p = 0; p < cpu.length; p++) {
            double maxAbs = 0;
            double diff = 0;
            for (int i = 0; i < cpu[p].length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(cpu[p][i]));
                diff = Math.max(diff, Math.abs((double) cpu[p][i] - dev[p][i]));
            }
            if (!(diff <= TOL * Math.max(1, maxAbs))) {
                fail(what + ": position " + p + " max|diff| " + diff + " > " + TOL * Math.max(1, maxAbs));
            }
            assertEquals(argmax(cpu[p]), argmax(dev[p]), what + ": argmax at position " + p);
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void gpuLayersChoosesTheFirstLayersOnly() {
        // mapped weights: the layers left on the CPU then compute with f32 activations like the device
        try (Model model = Taipan.load(GGUF.resolve("tiny-granitehybrid-q8_0.gguf"),
                options(1).withWeights(LoadOptions.WeightLayout.MAPPED))) {
            assertInstanceOf(OpenClTensor.class, model.source().get("blk.0.ssm_in.weight"));
            assertFalse(model.source().get("blk.1.attn_q.weight") instanceof OpenClTensor);
            assertFalse(model.source().get("output.weight") instanceof OpenClTensor);
            Tensor norm = model.source().get("blk.0.attn_norm.weight");
            assertFalse(norm instanceof OpenClTensor, "1-D tensors stay on the host");
            assertSame(model.source().get("blk.0.ssm_in.weight"), model.source().get("blk.0.ssm_in.weight"),
                    "placed once");
            ReferenceLogits ref = ReferenceLogits.read(GGUF.resolve("tiny-granitehybrid-q8_0.deq-logits.txt"));
            ref.assertMatchesF32(logits(model, ref.tokens(), false), TOL);
        }
    }

    @Test
    void closingModelsFreesEveryDeviceBuffer() {
        int before = OpenClBackend.liveBuffers();
        int[] tokens = {1, 100, 200};
        float[] first = null;
        for (int i = 0; i < 50; i++) {
            try (Model model = Taipan.load(GGUF.resolve("tiny-qwen3moe-q8_0.gguf"), options(99))) {
                assertTrue(OpenClBackend.liveBuffers() > before, "weights are on the device while loaded");
                float[] last = model.newSession(Sampling.greedy()).logits(tokens)[tokens.length - 1];
                if (first == null) {
                    first = last;
                } else {
                    assertTrue(Arrays.equals(first, last), "same logits on every load");
                }
            }
            assertEquals(before, OpenClBackend.liveBuffers(), "after close " + (i + 1));
        }
    }
}
