package dev.taipan.runtime.arch.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.gguf.GgufArray;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.moe.Gating;
import dev.taipan.moe.SparseMoe;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code nemotron_h_moe} has no fixture: a small random file (Mamba-2, MoE, attention blocks) is
 * written as GGUF and checked for the layer kinds, the routing configuration read from the
 * metadata, prefill against one token at a time, and the rejection of MoE latent projections.
 */
class NemotronHMoeTest {
    private static final int DIM = 16;
    private static final int VOCAB = 24;
    private static final int N_EXPERT = 4;
    private static final int EXPERT_FF = 12;
    private static final int SHARED_FF = 20;
    private static final int[] TOKENS = {4, 9, 23, 0, 17, 17, 2, 11, 5};

    static GgufFile model(String extraTensor) {
        Random r = new Random(9);
        GgufWriter g = new GgufWriter();
        String a = "nemotron_h_moe";
        g.putString("general.architecture", a);
        g.putUInt32(a + ".embedding_length", DIM);
        g.putUInt32(a + ".block_count", 3);
        g.putArray(a + ".feed_forward_length", GgufArray.ofIntegers(GgufValueType.INT32, 0, 24, 0));
        g.putUInt32(a + ".attention.head_count", 4);
        g.putArray(a + ".attention.head_count_kv", GgufArray.ofIntegers(GgufValueType.INT32, 0, 0, 2));
        g.putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        g.putUInt32(a + ".ssm.conv_kernel", 4);
        g.putUInt32(a + ".ssm.inner_size", 32);
        g.putUInt32(a + ".ssm.state_size", 8);
        g.putUInt32(a + ".ssm.time_step_rank", 4);
        g.putUInt32(a + ".ssm.group_count", 1);
        g.putUInt32(a + ".expert_count", N_EXPERT);
        g.putUInt32(a + ".expert_used_count", 2);
        g.putUInt32(a + ".expert_feed_forward_length", EXPERT_FF);
        g.putUInt32(a + ".expert_shared_feed_forward_length", SHARED_FF);
        g.putBool(a + ".expert_weights_norm", true);
        g.putFloat32(a + ".expert_weights_scale", 2.5f);
        add(g, r, "token_embd.weight", 1, DIM, VOCAB);
        add(g, r, "output_norm.weight", 0.1, DIM);
        add(g, r, "output.weight", 0.25, DIM, VOCAB);
        for (int l = 0; l < 3; l++) {
            add(g, r, "blk." + l + ".attn_norm.weight", 0.1, DIM);
        }
        // layer 0: Mamba-2, 4 heads of 8, one group
        add(g, r, "blk.0.ssm_in.weight", 0.25, DIM, 2 * 32 + 2 * 8 + 4);
        add(g, r, "blk.0.ssm_conv1d.weight", 0.5, 4, 32 + 2 * 8);
        add(g, r, "blk.0.ssm_dt.bias", 0.5, 4);
        float[] aNeg = {-0.5f, -1f, -2f, -0.25f};
        g.addF32("blk.0.ssm_a", Shape.fromGgml(1, 4), aNeg);
        add(g, r, "blk.0.ssm_d", 1, 1, 4);
        add(g, r, "blk.0.ssm_norm.weight", 0.1, 32, 1);
        add(g, r, "blk.0.ssm_out.weight", 0.2, 32, DIM);
        // layer 1: MoE
        add(g, r, "blk.1.ffn_gate_inp.weight", 0.25, DIM, N_EXPERT);
        add(g, r, "blk.1.exp_probs_b.bias", 0.1, N_EXPERT);
        add(g, r, "blk.1.ffn_up_exps.weight", 0.25, DIM, EXPERT_FF, N_EXPERT);
        add(g, r, "blk.1.ffn_down_exps.weight", 0.3, EXPERT_FF, DIM, N_EXPERT);
        add(g, r, "blk.1.ffn_up_shexp.weight", 0.25, DIM, SHARED_FF);
        add(g, r, "blk.1.ffn_down_shexp.weight", 0.2, SHARED_FF, DIM);
        // layer 2: attention, 4 heads of 4 over 2 KV heads
        add(g, r, "blk.2.attn_q.weight", 0.25, DIM, DIM);
        add(g, r, "blk.2.attn_k.weight", 0.25, DIM, DIM / 2);
        add(g, r, "blk.2.attn_v.weight", 0.25, DIM, DIM / 2);
        add(g, r, "blk.2.attn_output.weight", 0.25, DIM, DIM);
        if (extraTensor != null) {
            add(g, r, extraTensor, 0.1, DIM, DIM);
        }
        return GgufFile.of("synthetic-nemotron_h_moe.gguf", MemorySegment.ofArray(g.toBytes()));
    }

    private static void add(GgufWriter g, Random r, String name, double scale, long... ne) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        float[] v = new float[(int) n];
        boolean norm = name.contains("norm");
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((norm ? 1 : 0) + r.nextGaussian() * scale);
        }
        g.addF32(name, Shape.fromGgml(ne), v);
    }

    private static Network build(GgufFile f, Parallel par) {
        return new NemotronHArchitecture().build(f, new BuildContext(Kernels.vector(), par));
    }

    @Test
    void moeBlocksFromMetadataAndPrefillEqualsStep() {
        try (GgufFile f = model(null); Parallel par = Parallel.create(2)) {
            Network net = build(f, par);
            assertEquals(List.of("mamba2+none", "none+moe", "attention+none"),
                    net.layers().stream().map(DecoderLayer::kind).map(Object::toString).toList());
            SparseMoe moe = (SparseMoe) net.layers().get(1).ffn();
            assertEquals(Gating.SIGMOID, moe.config().gating());
            assertTrue(moe.config().renormalize());
            assertEquals(2.5f, moe.config().weightScale());
            assertEquals(N_EXPERT, moe.weights().selectionBias().length);
            float[][] batch = FixtureRun.logits(net, TOKENS, TOKENS.length);
            float[][] step = FixtureRun.logits(net, TOKENS, 1);
            for (int p = 0; p < TOKENS.length; p++) {
                for (int v = 0; v < VOCAB; v++) {
                    assertEquals(batch[p][v], step[p][v], 1e-5 * Math.max(1, Math.abs(batch[p][v])), "pos " + p);
                }
            }
        }
    }

    @Test
    void latentProjectionsAreRejectedByName() {
        try (GgufFile f = model("blk.1.ffn_latent_down.weight"); Parallel par = Parallel.create(1)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> build(f, par));
            assertTrue(e.getMessage().contains("blk.1.ffn_latent_down.weight"), e.getMessage());
        }
    }
}
