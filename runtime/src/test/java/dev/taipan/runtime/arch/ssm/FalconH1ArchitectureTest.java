package dev.taipan.runtime.arch.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.gguf.GgufArray;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.Block;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code falcon-h1} has no llama.cpp fixture, so a small random model is written as GGUF here
 * (F32, 2 heads per KV head, Mamba-2 with 2 groups) and checked for: prefill equal to one token
 * at a time; the layer wired as llama.cpp's falcon-h1.cpp by hand (x + attn(n(x)) + ssm(n(x)),
 * then the FFN residual, output norm and head) from the network's own blocks; both ffn_norm
 * spellings; and a clear error for tensors it does not support.
 */
class FalconH1ArchitectureTest {
    private static final int DIM = 32;
    private static final int VOCAB = 40;
    private static final int FF = 48;
    private static final int D_INNER = 64;
    private static final int D_STATE = 8;
    private static final int SSM_HEADS = 4;
    private static final int GROUPS = 2;
    private static final int D_CONV = 4;
    private static final int[] TOKENS = {3, 17, 0, 39, 22, 5, 5, 11, 30, 8, 1};

    /** A random falcon-h1 file; {@code bareFfnNorm} names the FFN norm "blk.N.ffn_norm". */
    static GgufFile model(int nLayers, boolean bareFfnNorm, String extraTensor) {
        Random r = new Random(42);
        GgufWriter g = new GgufWriter();
        String a = "falcon-h1";
        g.putString("general.architecture", a);
        g.putUInt32(a + ".embedding_length", DIM);
        g.putUInt32(a + ".block_count", nLayers);
        g.putUInt32(a + ".attention.head_count", 4);
        g.putUInt32(a + ".attention.head_count_kv", 2);
        g.putUInt32(a + ".feed_forward_length", FF);
        g.putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        g.putFloat32(a + ".rope.freq_base", 10000f);
        g.putUInt32(a + ".ssm.conv_kernel", D_CONV);
        g.putUInt32(a + ".ssm.inner_size", D_INNER);
        g.putUInt32(a + ".ssm.state_size", D_STATE);
        g.putUInt32(a + ".ssm.time_step_rank", SSM_HEADS);
        g.putUInt32(a + ".ssm.group_count", GROUPS);
        g.putArray("tokenizer.ggml.token_type", GgufArray.ofIntegers(GgufValueType.INT32, new long[VOCAB]));
        add(g, r, "token_embd.weight", 1, DIM, VOCAB);
        addNorm(g, r, "output_norm.weight");
        add(g, r, "output.weight", 1 / Math.sqrt(DIM), DIM, VOCAB);
        int convDim = D_INNER + 2 * GROUPS * D_STATE;
        for (int l = 0; l < nLayers; l++) {
            String p = "blk." + l + ".";
            addNorm(g, r, p + "attn_norm.weight");
            add(g, r, p + "ssm_in.weight", 1 / Math.sqrt(DIM), DIM, 2 * D_INNER + 2 * GROUPS * D_STATE + SSM_HEADS);
            add(g, r, p + "ssm_conv1d.weight", 0.5, D_CONV, convDim);
            add(g, r, p + "ssm_conv1d.bias", 0.1, convDim);
            add(g, r, p + "ssm_dt.bias", 0.5, SSM_HEADS);
            float[] aLog = new float[SSM_HEADS];
            for (int h = 0; h < SSM_HEADS; h++) {
                aLog[h] = (float) -Math.exp(r.nextGaussian() * 0.5);
            }
            g.addF32(p + "ssm_a", Shape.fromGgml(1, SSM_HEADS), aLog);
            add(g, r, p + "ssm_d", 1, 1, SSM_HEADS);
            add(g, r, p + "ssm_norm.weight", 1, D_INNER / GROUPS, GROUPS);
            add(g, r, p + "ssm_out.weight", 1 / Math.sqrt(D_INNER), D_INNER, DIM);
            add(g, r, p + "attn_q.weight", 1 / Math.sqrt(DIM), DIM, DIM);
            add(g, r, p + "attn_k.weight", 1 / Math.sqrt(DIM), DIM, DIM / 2);
            add(g, r, p + "attn_v.weight", 1 / Math.sqrt(DIM), DIM, DIM / 2);
            add(g, r, p + "attn_output.weight", 1 / Math.sqrt(DIM), DIM, DIM);
            addNorm(g, r, bareFfnNorm ? p + "ffn_norm" : p + "ffn_norm.weight");
            add(g, r, p + "ffn_gate.weight", 1 / Math.sqrt(DIM), DIM, FF);
            add(g, r, p + "ffn_up.weight", 1 / Math.sqrt(DIM), DIM, FF);
            add(g, r, p + "ffn_down.weight", 1 / Math.sqrt(FF), FF, DIM);
        }
        if (extraTensor != null) {
            add(g, r, extraTensor, 0.1, DIM);
        }
        return GgufFile.of("synthetic-falcon-h1.gguf", MemorySegment.ofArray(g.toBytes()));
    }

    private static void add(GgufWriter g, Random r, String name, double scale, long... ne) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        g.addF32(name, Shape.fromGgml(ne), v);
    }

    private static void addNorm(GgufWriter g, Random r, String name) {
        float[] v = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            v[i] = (float) (1 + 0.1 * r.nextGaussian());
        }
        g.addF32(name, Shape.of(DIM), v);
    }

    private static Network build(GgufFile file, Parallel par) {
        return new FalconH1Architecture().build(file, new BuildContext(Kernels.vector(), par));
    }

    @Test
    void prefillEqualsStepAndChunks() {
        try (GgufFile file = model(2, false, null); Parallel par = Parallel.create(2)) {
            Network net = build(file, par);
            for (DecoderLayer layer : net.layers()) {
                assertEquals(new LayerKind(LayerKind.Mixer.ATTENTION_AND_MAMBA2, LayerKind.Ffn.DENSE), layer.kind());
            }
            float[][] batch = FixtureRun.logits(net, TOKENS, TOKENS.length);
            float[][] step = FixtureRun.logits(net, TOKENS, 1);
            float[][] chunks = FixtureRun.logits(net, TOKENS, 4);
            for (int p = 0; p < TOKENS.length; p++) {
                for (int v = 0; v < VOCAB; v++) {
                    assertEquals(batch[p][v], step[p][v], 1e-5 * Math.max(1, Math.abs(batch[p][v])), "pos " + p);
                    assertEquals(batch[p][v], chunks[p][v], 1e-5 * Math.max(1, Math.abs(batch[p][v])), "pos " + p);
                }
            }
        }
    }

    @Test
    void layerIsWiredAsLlamaCpp() {
        try (GgufFile file = model(1, false, null); Parallel par = Parallel.create(2)) {
            Network net = build(file, par);
            int n = TOKENS.length;
            float[][] expected = handComputed(net, n);
            float[][] got = FixtureRun.logits(net, TOKENS, n);
            for (int p = 0; p < n; p++) {
                for (int v = 0; v < VOCAB; v++) {
                    assertEquals(expected[p][v], got[p][v], 1e-5 * Math.max(1, Math.abs(expected[p][v])), "pos " + p);
                }
            }
        }
    }

    // x1 = x + attn(n(x)) + ssm(n(x)); x2 = x1 + ffn(n2(x1)); logits = W_out onorm(x2)
    private static float[][] handComputed(Network net, int n) {
        Kernels k = Kernels.vector();
        DecoderLayer layer = net.layers().get(0);
        ParallelMixers mixers = assertInstanceOf(ParallelMixers.class, layer.mixer());
        SessionLimits limits = new SessionLimits(n, n);
        float[] x = new float[n * DIM];
        for (int t = 0; t < n; t++) {
            net.head().tokenEmbd().row(TOKENS[t], x, t * DIM);
        }
        float[] xn = x.clone();
        for (int t = 0; t < n; t++) {
            layer.mixerNorm().apply(k, xn, t * DIM);
        }
        float[] attn = run(mixers.first(), xn, n, limits);
        float[] ssm = run(mixers.second(), xn, n, limits);
        assertTrue(maxAbs(attn) > 1e-3 && maxAbs(ssm) > 1e-3, "both branches contribute");
        for (int i = 0; i < x.length; i++) {
            x[i] += attn[i] + ssm[i];
        }
        float[] fn = x.clone();
        for (int t = 0; t < n; t++) {
            layer.ffnNorm().apply(k, fn, t * DIM);
        }
        float[] ffn = run(layer.ffn(), fn, n, limits);
        float[][] logits = new float[n][VOCAB];
        for (int t = 0; t < n; t++) {
            float[] h = new float[DIM];
            for (int i = 0; i < DIM; i++) {
                h[i] = x[t * DIM + i] + ffn[t * DIM + i];
            }
            net.head().outputNorm().apply(k, h, 0);
            for (int v = 0; v < VOCAB; v++) {
                logits[t][v] = net.head().output().dotScalar(v, h, 0);
            }
        }
        return logits;
    }

    private static float[] run(Block b, float[] x, int n, SessionLimits limits) {
        float[] out = new float[n * DIM];
        b.forward(out, x, n, b.newState(limits));
        return out;
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }

    @Test
    void acceptsBothFfnNormNames() {
        try (GgufFile suffixed = model(2, false, null); GgufFile bare = model(2, true, null);
             Parallel par = Parallel.create(1)) {
            float[][] a = FixtureRun.logits(build(suffixed, par), TOKENS, 3);
            float[][] b = FixtureRun.logits(build(bare, par), TOKENS, 3);
            for (int p = 0; p < TOKENS.length; p++) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(a[p], b[p]);
            }
        }
    }

    @Test
    void rejectsUnusedOutputBiasByName() {
        try (GgufFile file = model(1, false, "blk.0.attn_output.bias"); Parallel par = Parallel.create(1)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> build(file, par));
            assertTrue(e.getMessage().contains("blk.0.attn_output.bias"), e.getMessage());
        }
    }
}
