package dev.taipan.runtime.arch.mamba3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.gguf.GgufArray;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.Network;
import dev.taipan.ssm.mamba3.Mamba3State;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Shape;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A synthetic Mamba-3 + attention + MoE hybrid written with the GgufWriter (no reference exists
 * for such a model, so the checks are of consistency): layer kinds come from metadata, a whole
 * prefill, batches of 7 with chunk 4, and token-by-token decode give the same logits; sessions are
 * independent and reset to a fresh state; the Mamba-3 caches do not grow; a Q8_0 rewrite gives
 * the logits of its dequantized weights.
 */
class Mamba3HybridTest {
    private static final Parallel PAR = Parallel.create(2);
    private static final int DIM = 32;
    private static final int VOCAB = 50;
    private static final int LAYERS = 4;
    private static final int N = 16;
    private static final int HEADS = 4;
    private static final int P = 16;
    private static final int R = 2;
    private static final int IN_PROJ = 2 * HEADS * P + 2 * N * R + 3 * HEADS + 4;

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        PAR.close();
    }

    /** Layer 0: Mamba-3; 1: attention + MoE; 2: Mamba-3 + dense SwiGLU; 3: Mamba-3 + MoE. */
    static GgufWriter hybrid(long seed) {
        Random rnd = new Random(seed);
        GgufWriter w = new GgufWriter();
        String a = "mamba3";
        w.putString("general.architecture", a);
        w.putUInt32(a + ".context_length", 1 << 20);
        w.putUInt32(a + ".embedding_length", DIM);
        w.putUInt32(a + ".block_count", LAYERS);
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        w.putUInt32(a + ".ssm.state_size", N);
        w.putUInt32(a + ".ssm.inner_size", HEADS * P);
        w.putUInt32(a + ".ssm.time_step_rank", HEADS);
        w.putUInt32(a + ".ssm.group_count", 1);
        w.putBool(a + ".ssm.is_mimo", true);
        w.putUInt32(a + ".ssm.mimo_rank", R);
        w.putFloat32(a + ".ssm.rope_fraction", 0.5f);
        w.putString(a + ".ssm.a_activation", "heavy_tail");
        w.putFloat32(a + ".ssm.a_floor", 1e-4f);
        w.putBool(a + ".ssm.out_norm", true);
        w.putUInt32(a + ".ssm.chunk_size", 4);
        w.putUInt32(a + ".attention.head_count", 4);
        w.putArray(a + ".attention.head_count_kv", GgufArray.ofIntegers(GgufValueType.INT32, 0, 2, 0, 0));
        w.putUInt32(a + ".attention.key_length", 8);
        w.putUInt32(a + ".rope.dimension_count", 8);
        w.putFloat32(a + ".rope.freq_base", 10000f);
        w.putArray(a + ".feed_forward_length", GgufArray.ofIntegers(GgufValueType.INT32, 0, 64, 64, 64));
        w.putUInt32(a + ".expert_count", 4);
        w.putUInt32(a + ".expert_used_count", 2);
        w.putUInt32(a + ".expert_feed_forward_length", 32);
        w.putBool(a + ".expert_weights_norm", true);
        w.addF32("token_embd.weight", Shape.of(VOCAB, DIM), normal(rnd, VOCAB * DIM, 1));
        w.addF32("output_norm.weight", Shape.of(DIM), ones(rnd, DIM));
        w.addF32("output.weight", Shape.of(VOCAB, DIM), normal(rnd, VOCAB * DIM, 1 / Math.sqrt(DIM)));
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            w.addF32(b + "attn_norm.weight", Shape.of(DIM), ones(rnd, DIM));
            if (l == 1) {
                w.addF32(b + "attn_q.weight", Shape.of(32, DIM), normal(rnd, 32 * DIM, 1 / Math.sqrt(DIM)));
                w.addF32(b + "attn_k.weight", Shape.of(16, DIM), normal(rnd, 16 * DIM, 1 / Math.sqrt(DIM)));
                w.addF32(b + "attn_v.weight", Shape.of(16, DIM), normal(rnd, 16 * DIM, 1 / Math.sqrt(DIM)));
                w.addF32(b + "attn_output.weight", Shape.of(DIM, 32), normal(rnd, 32 * DIM, 1 / Math.sqrt(32)));
            } else {
                mamba3(w, rnd, l);
            }
            if (l == 0) {
                continue;
            }
            w.addF32(b + "ffn_norm.weight", Shape.of(DIM), ones(rnd, DIM));
            if (l == 2) {
                w.addF32(b + "ffn_gate.weight", Shape.of(64, DIM), normal(rnd, 64 * DIM, 1 / Math.sqrt(DIM)));
                w.addF32(b + "ffn_up.weight", Shape.of(64, DIM), normal(rnd, 64 * DIM, 1 / Math.sqrt(DIM)));
                w.addF32(b + "ffn_down.weight", Shape.of(DIM, 64), normal(rnd, 64 * DIM, 1 / Math.sqrt(64)));
            } else {
                w.addF32(b + "ffn_gate_inp.weight", Shape.of(4, DIM), normal(rnd, 4 * DIM, 1));
                w.addF32(b + "ffn_gate_exps.weight", Shape.of(4, 32, DIM), normal(rnd, 4 * 32 * DIM, 1 / Math.sqrt(DIM)));
                w.addF32(b + "ffn_up_exps.weight", Shape.of(4, 32, DIM), normal(rnd, 4 * 32 * DIM, 1 / Math.sqrt(DIM)));
                w.addF32(b + "ffn_down_exps.weight", Shape.of(4, DIM, 32), normal(rnd, 4 * 32 * DIM, 1 / Math.sqrt(32)));
            }
        }
        return w;
    }

    private static void mamba3(GgufWriter w, Random rnd, int l) {
        String b = "blk." + l + ".";
        int inner = HEADS * P;
        w.addF32(b + "ssm_in.weight", Shape.of(IN_PROJ, DIM), normal(rnd, IN_PROJ * DIM, 1 / Math.sqrt(DIM)));
        w.addF32(b + "ssm_dt.bias", Shape.of(HEADS), normal(rnd, HEADS, 0.5));
        w.addF32(b + "ssm_d", Shape.of(HEADS), normal(rnd, HEADS, 1));
        w.addF32(b + "ssm_b_norm.weight", Shape.of(N), ones(rnd, N));
        w.addF32(b + "ssm_c_norm.weight", Shape.of(N), ones(rnd, N));
        w.addF32(b + "ssm_b_bias", Shape.of(HEADS, R, N), normal(rnd, HEADS * R * N, 0.5));
        w.addF32(b + "ssm_c_bias", Shape.of(HEADS, R, N), normal(rnd, HEADS * R * N, 0.5));
        w.addF32(b + "ssm_mimo_x", Shape.of(HEADS, R, P), normal(rnd, HEADS * R * P, 0.5));
        w.addF32(b + "ssm_mimo_z", Shape.of(HEADS, R, P), ones(rnd, HEADS * R * P));
        w.addF32(b + "ssm_mimo_o", Shape.of(HEADS, R, P), normal(rnd, HEADS * R * P, 0.5));
        w.addF32(b + "ssm_norm.weight", Shape.of(inner), ones(rnd, inner));
        w.addF32(b + "ssm_out.weight", Shape.of(DIM, inner), normal(rnd, DIM * inner, 1 / Math.sqrt(inner)));
    }

    private static float[] normal(Random rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * scale);
        }
        return v;
    }

    private static float[] ones(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (1 + 0.1 * rnd.nextGaussian());
        }
        return v;
    }

    private static int[] tokens(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = (i * 13 + 5) % VOCAB;
        }
        return t;
    }

    private GgufFile write(GgufWriter w, String name) {
        Path p = tmp.resolve(name);
        w.write(p);
        return GgufFile.open(p);
    }

    @Test
    void layerKindsComeFromMetadataAndAllSchedulesAgree() {
        try (GgufFile f = write(hybrid(9), "hybrid.gguf")) {
            Network net = Mamba3Run.build(f, Kernels.vector(), PAR);
            LayerKind.Mixer m3 = LayerKind.Mixer.MAMBA3;
            assertEquals(new LayerKind(m3, LayerKind.Ffn.NONE), net.layers().get(0).kind());
            assertEquals(new LayerKind(LayerKind.Mixer.ATTENTION, LayerKind.Ffn.MOE), net.layers().get(1).kind());
            assertEquals(new LayerKind(m3, LayerKind.Ffn.DENSE), net.layers().get(2).kind());
            assertEquals(new LayerKind(m3, LayerKind.Ffn.MOE), net.layers().get(3).kind());
            int[] toks = tokens(23);
            float[][] whole = Mamba3Run.logits(net, toks, toks.length);
            float[][] sevens = Mamba3Run.logits(net, toks, 7);
            float[][] steps = Mamba3Run.logits(net, toks, 1);
            assertTrue(Mamba3Run.maxDiff(whole, sevens) < 1e-4, "batches of 7: " + Mamba3Run.maxDiff(whole, sevens));
            assertTrue(Mamba3Run.maxDiff(whole, steps) < 1e-4, "decode: " + Mamba3Run.maxDiff(whole, steps));
            double spread = 0;
            for (float v : whole[22]) {
                spread = Math.max(spread, Math.abs(v - whole[22][0]));
            }
            assertTrue(spread > 0.1, "logits are not degenerate");
        }
    }

    @Test
    void sessionsAreIndependentResetIsFreshAndSsmCachesDoNotGrow() {
        try (GgufFile f = write(hybrid(10), "hybrid.gguf")) {
            Network net = Mamba3Run.build(f, Kernels.vector(), PAR);
            int[] a = tokens(12);
            int[] b = new int[12];
            for (int i = 0; i < b.length; i++) {
                b[i] = (i * 7 + 3) % VOCAB;
            }
            float[][] aAlone = Mamba3Run.logits(net, a, 1);
            float[][] bAlone = Mamba3Run.logits(net, b, 1);
            Network.State sa = net.newState(new SessionLimits(4, 64));
            Network.State sb = net.newState(new SessionLimits(4, 64));
            float[] out = new float[VOCAB];
            for (int t = 0; t < a.length; t++) {
                net.forward(a, t, 1, sa);
                net.logits(sa, 0, 1, out, 0);
                assertArrayEquals(aAlone[t], out, 1e-5f, "session a, token " + t);
                net.forward(b, t, 1, sb);
                net.logits(sb, 0, 1, out, 0);
                assertArrayEquals(bAlone[t], out, 1e-5f, "session b, token " + t);
            }
            long ssm = ((Mamba3State) sa.mixerState(0)).cacheBytes();
            sa.reset();
            assertEquals(0, sa.position());
            assertEquals(ssm, sa.mixerState(0).cacheBytes());
            net.forward(b, 0, 4, sa);
            net.logits(sa, 3, 1, out, 0);
            assertArrayEquals(bAlone[3], out, 1e-4f, "after reset the session starts fresh");
            // the Mamba-3 layers' state has the size of the recurrence, whatever the token count
            int perLayer = HEADS * 4 + HEADS * P * N + R * HEADS * N + HEADS * P;
            assertEquals(4L * perLayer, ssm);
            Network.State big = net.newState(new SessionLimits(64, 400));
            int[] many = tokens(300);
            net.forward(many, 0, 10, big);
            long[] after10 = {big.mixerState(0).cacheBytes(), big.mixerState(2).cacheBytes(), big.cacheBytes()};
            for (int t = 10; t < many.length; t += 64) {
                net.forward(many, t, Math.min(64, many.length - t), big);
            }
            assertArrayEquals(after10, new long[] {big.mixerState(0).cacheBytes(), big.mixerState(2).cacheBytes(),
                    big.cacheBytes()});
        }
    }

    @Test
    void quantizedRewriteMatchesItsDequantizedWeights() {
        try (GgufFile f = write(hybrid(11), "hybrid.gguf");
             GgufFile q = write(Mamba3GgufConverter.write(f, "hybrid", Mamba3GgufConverter.Target.Q8_0), "q8.gguf")) {
            assertEquals(DType.Q8_0, q.get("blk.0.ssm_in.weight").type());
            assertEquals(DType.Q8_0, q.get("blk.1.attn_q.weight").type());
            int[] toks = tokens(9);
            float[][] got = Mamba3Run.logits(Mamba3Run.build(q, Kernels.vector(), PAR), toks, toks.length);
            try (GgufFile deq = Mamba3Run.dequantized(q, tmp.resolve("deq.gguf"))) {
                float[][] ref = Mamba3Run.logits(Mamba3Run.build(deq, Kernels.vector(), PAR), toks, toks.length);
                assertTrue(Mamba3Run.maxDiff(ref, got) < 1e-4, "Q8_0 vs its dequantized F32: " + Mamba3Run.maxDiff(ref, got));
            }
        }
    }

    @Test
    void missingAndUnknownKeysAndTensorsAreNamed() {
        GgufWriter w = hybrid(12);
        w.addF32("blk.0.ssm_extra", Shape.of(4), new float[4]);
        try (GgufFile f = write(w, "extra.gguf")) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> Mamba3Run.build(f, Kernels.vector(), PAR));
            assertTrue(e.getMessage().contains("blk.0.ssm_extra"), e.getMessage());
        }
        GgufWriter noAct = new GgufWriter();
        noAct.putString("general.architecture", "mamba3");
        noAct.putUInt32("mamba3.embedding_length", DIM);
        noAct.putUInt32("mamba3.block_count", 1);
        noAct.putUInt32("mamba3.ssm.state_size", N);
        noAct.putUInt32("mamba3.ssm.inner_size", 64);
        noAct.putUInt32("mamba3.ssm.time_step_rank", 4);
        noAct.addF32("token_embd.weight", Shape.of(VOCAB, DIM), new float[VOCAB * DIM]);
        try (GgufFile f = write(noAct, "noact.gguf")) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> Mamba3Run.build(f, Kernels.vector(), PAR));
            assertTrue(e.getMessage().contains("mamba3.ssm.a_activation"), e.getMessage());
        }
    }
}
