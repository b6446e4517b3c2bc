package dev.taipan.runtime.arch.mamba3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.gguf.GgufArray;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.loaders.safetensors.SafetensorsWriter;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A safetensors Mamba-3 hybrid in mamba_ssm MixerModel layout (attn_layer_idx, attn_cfg with a
 * fused, biased q/k/v in_proj and RoPE, d_intermediate GatedMLP on every layer) against the same
 * weights written by hand as a GGUF with separate attn_q/k/v and ffn_up/gate: the same logits;
 * prefill equals decode; and `convert` of the directory gives the same logits again.
 */
class Mamba3SafetensorsHybridTest {
    private static final Parallel PAR = Parallel.create(2);
    private static final int DIM = 32;
    private static final int VOCAB = 40;
    private static final int N = 16;
    private static final int H = 4;
    private static final int P = 16;
    private static final int IN_PROJ = 2 * H * P + 2 * N + 3 * H + 4;
    private static final int FF = 48;
    private static final int QH = 4;
    private static final int KVH = 2;
    private static final int HD = 8;

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        PAR.close();
    }

    /** Writes each tensor to both files. */
    private record Both(SafetensorsWriter st, GgufWriter gguf, Random rnd) {
        float[] add(String stName, String ggufName, Shape shape, double scale, double mean) {
            float[] v = new float[Math.toIntExact(shape.elementCount())];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (mean + scale * rnd.nextGaussian());
            }
            st.addF32(stName, shape, v);
            if (ggufName != null) {
                gguf.addF32(ggufName, shape, v);
            }
            return v;
        }
    }

    private static final String CONFIG = """
            {"model_type": "mamba3", "hidden_size": 32, "num_hidden_layers": 3, "state_size": 16, "head_dim": 16,
             "expand": 2, "n_groups": 1, "num_heads": 4, "rope_fraction": 0.5, "chunk_size": 4, "is_mimo": false,
             "A_floor": 0.0001, "is_outproj_norm": true, "norm_eps": 1e-5, "vocab_size": 40,
             "tie_word_embeddings": false, "a_activation": "heavy_tail", "attn_layer_idx": [1],
             "attn_cfg": {"num_heads": 4, "num_heads_kv": 2, "head_dim": 8, "rotary_emb_dim": 8, "causal": true},
             "d_intermediate": 48}
            """;

    private Path[] write() throws IOException {
        Both b = new Both(new SafetensorsWriter(), new GgufWriter(), new Random(77));
        GgufWriter g = b.gguf();
        String a = "mamba3.";
        g.putString("general.architecture", "mamba3");
        g.putUInt32(a + "embedding_length", DIM);
        g.putUInt32(a + "block_count", 3);
        g.putFloat32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
        g.putUInt32(a + "ssm.state_size", N);
        g.putUInt32(a + "ssm.inner_size", H * P);
        g.putUInt32(a + "ssm.time_step_rank", H);
        g.putString(a + "ssm.a_activation", "heavy_tail");
        g.putBool(a + "ssm.out_norm", true);
        g.putUInt32(a + "ssm.chunk_size", 4);
        g.putUInt32(a + "attention.head_count", QH);
        g.putArray(a + "attention.head_count_kv", GgufArray.ofIntegers(GgufValueType.INT32, 0, KVH, 0));
        g.putUInt32(a + "attention.key_length", HD);
        g.putUInt32(a + "rope.dimension_count", 8);
        g.putArray(a + "feed_forward_length", GgufArray.ofIntegers(GgufValueType.INT32, FF, FF, FF));
        b.add("backbone.embeddings.weight", "token_embd.weight", Shape.of(VOCAB, DIM), 1, 0);
        b.add("backbone.norm_f.weight", "output_norm.weight", Shape.of(DIM), 0.1, 1);
        b.add("lm_head.weight", "output.weight", Shape.of(VOCAB, DIM), 0.2, 0);
        for (int l = 0; l < 3; l++) {
            String s = "backbone.layers." + l + ".";
            String k = "blk." + l + ".";
            b.add(s + "norm.weight", k + "attn_norm.weight", Shape.of(DIM), 0.1, 1);
            if (l == 1) {
                int qkv = (QH + 2 * KVH) * HD;
                float[] w = b.add(s + "mixer.in_proj.weight", null, Shape.of(qkv, DIM), 0.2, 0);
                float[] bias = b.add(s + "mixer.in_proj.bias", null, Shape.of(qkv), 0.1, 0);
                int q = QH * HD;
                int kv = KVH * HD;
                g.addF32(k + "attn_q.weight", Shape.of(q, DIM), Arrays.copyOfRange(w, 0, q * DIM));
                g.addF32(k + "attn_k.weight", Shape.of(kv, DIM), Arrays.copyOfRange(w, q * DIM, (q + kv) * DIM));
                g.addF32(k + "attn_v.weight", Shape.of(kv, DIM), Arrays.copyOfRange(w, (q + kv) * DIM, qkv * DIM));
                g.addF32(k + "attn_q.bias", Shape.of(q), Arrays.copyOfRange(bias, 0, q));
                g.addF32(k + "attn_k.bias", Shape.of(kv), Arrays.copyOfRange(bias, q, q + kv));
                g.addF32(k + "attn_v.bias", Shape.of(kv), Arrays.copyOfRange(bias, q + kv, qkv));
                b.add(s + "mixer.out_proj.weight", k + "attn_output.weight", Shape.of(DIM, q), 0.2, 0);
                b.add(s + "mixer.out_proj.bias", k + "attn_output.bias", Shape.of(DIM), 0.1, 0);
            } else {
                b.add(s + "mixer.in_proj.weight", k + "ssm_in.weight", Shape.of(IN_PROJ, DIM), 0.18, 0);
                b.add(s + "mixer.dt_bias", k + "ssm_dt.bias", Shape.of(H), 0.5, -1);
                b.add(s + "mixer.D", k + "ssm_d", Shape.of(H), 1, 0);
                b.add(s + "mixer.B_norm.weight", k + "ssm_b_norm.weight", Shape.of(N), 0.1, 1);
                b.add(s + "mixer.C_norm.weight", k + "ssm_c_norm.weight", Shape.of(N), 0.1, 1);
                b.add(s + "mixer.B_bias", k + "ssm_b_bias", Shape.of(H, 1, N), 0.5, 1);
                b.add(s + "mixer.C_bias", k + "ssm_c_bias", Shape.of(H, 1, N), 0.5, 1);
                b.add(s + "mixer.norm.weight", k + "ssm_norm.weight", Shape.of(H * P), 0.1, 1);
                b.add(s + "mixer.out_proj.weight", k + "ssm_out.weight", Shape.of(DIM, H * P), 0.12, 0);
            }
            b.add(s + "norm2.weight", k + "ffn_norm.weight", Shape.of(DIM), 0.1, 1);
            float[] fc1 = b.add(s + "mlp.fc1.weight", null, Shape.of(2 * FF, DIM), 0.18, 0);
            g.addF32(k + "ffn_up.weight", Shape.of(FF, DIM), Arrays.copyOfRange(fc1, 0, FF * DIM));
            g.addF32(k + "ffn_gate.weight", Shape.of(FF, DIM), Arrays.copyOfRange(fc1, FF * DIM, 2 * FF * DIM));
            b.add(s + "mlp.fc2.weight", k + "ffn_down.weight", Shape.of(DIM, FF), 0.14, 0);
        }
        Path dir = Files.createDirectory(tmp.resolve("hybrid"));
        b.st().write(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), CONFIG);
        Path gguf = tmp.resolve("hybrid.gguf");
        g.write(gguf);
        return new Path[] {dir, gguf};
    }

    @Test
    void mixerModelLayoutMatchesTheSplitGgufLayout() throws IOException {
        Path[] files = write();
        int[] toks = new int[17];
        for (int i = 0; i < toks.length; i++) {
            toks[i] = (i * 11 + 3) % VOCAB;
        }
        float[][] st;
        float[][] stSteps;
        try (SafetensorsSource src = SafetensorsSource.open(files[0])) {
            Network net = Mamba3Run.build(src, Kernels.vector(), PAR);
            assertEquals(new LayerKind(LayerKind.Mixer.ATTENTION, LayerKind.Ffn.DENSE), net.layers().get(1).kind());
            assertEquals(new LayerKind(LayerKind.Mixer.MAMBA3, LayerKind.Ffn.DENSE), net.layers().get(2).kind());
            st = Mamba3Run.logits(net, toks, toks.length);
            stSteps = Mamba3Run.logits(net, toks, 1);
        }
        float[][] gg;
        try (GgufFile f = GgufFile.open(files[1])) {
            gg = Mamba3Run.logits(Mamba3Run.build(f, Kernels.vector(), PAR), toks, toks.length);
        }
        assertTrue(Mamba3Run.maxDiff(st, gg) < 1e-5, "safetensors vs hand-split GGUF: " + Mamba3Run.maxDiff(st, gg));
        assertTrue(Mamba3Run.maxDiff(st, stSteps) < 1e-4, "prefill vs decode: " + Mamba3Run.maxDiff(st, stSteps));
        Path converted = tmp.resolve("converted.gguf");
        Mamba3GgufConverter.convert(files[0], converted, Mamba3GgufConverter.Target.F32);
        try (GgufFile f = GgufFile.open(converted)) {
            float[][] cv = Mamba3Run.logits(Mamba3Run.build(f, Kernels.vector(), PAR), toks, toks.length);
            assertTrue(Mamba3Run.maxDiff(st, cv) < 1e-5, "converted: " + Mamba3Run.maxDiff(st, cv));
            assertEquals(Shape.of(KVH * HD, DIM), f.get("blk.1.attn_k.weight").shape());
            assertEquals(Shape.of(FF, DIM), f.get("blk.0.ffn_gate.weight").shape());
        }
        double spread = 0;
        for (float v : st[16]) {
            spread = Math.max(spread, Math.abs(v - st[16][0]));
        }
        assertTrue(spread > 0.1, "logits are not degenerate");
    }
}
