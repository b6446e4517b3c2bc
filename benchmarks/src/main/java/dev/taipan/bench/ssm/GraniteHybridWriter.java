package dev.taipan.bench.ssm;

import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.tensor.DType;
import java.nio.file.Path;

/**
 * Writes a random {@code granitehybrid} GGUF with llama.cpp's keys and tensor names
 * (34af94cd src/models/granite-hybrid.cpp, load_arch_tensors; the layout of the
 * {@code tiny-granitehybrid} fixture): Mamba-2 layers ({@code ssm_in, ssm_conv1d, ssm_dt, ssm_a,
 * ssm_d, ssm_norm, ssm_out}) where {@code head_count_kv} is 0, attention without RoPE elsewhere
 * ({@code rope.scaling.finetuned = false}, as Granite 4.0 files), a MoE FFN with a shared expert
 * in every layer, and Granite 4.0 H Tiny's scales. One B/C group, conv kernel 4.
 */
final class GraniteHybridWriter {
    private static final String ARCH = "granitehybrid";
    private static final int D_CONV = 4;

    private GraniteHybridWriter() {
    }

    static void write(SsmSyntheticModels.GraniteHybrid p, DType type, long seed, Path out) {
        GgufWriter w = new GgufWriter();
        RandomWeights rw = new RandomWeights(w, type, seed);
        SsmSyntheticModels.header(w, ARCH, p.name(), rw, p.vocab());
        String a = ARCH + ".";
        int[] kv = new int[p.layers()];
        for (int l = 0; l < p.layers(); l++) {
            kv[l] = p.isAttention(l) ? p.nKvHeads() : 0;
        }
        w.putUInt32(a + "context_length", 131072);
        w.putUInt32(a + "embedding_length", p.dim());
        w.putUInt32(a + "block_count", p.layers());
        w.putUInt32(a + "feed_forward_length", p.expertFf());
        w.putUInt32(a + "attention.head_count", p.nHeads());
        w.putArray(a + "attention.head_count_kv", SsmSyntheticModels.perLayer(kv));
        w.putFloat32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
        w.putFloat32(a + "rope.freq_base", 10000f);
        w.putBool(a + "rope.scaling.finetuned", false);
        w.putUInt32(a + "expert_count", p.nExperts());
        w.putUInt32(a + "expert_used_count", p.nUsed());
        w.putUInt32(a + "expert_shared_feed_forward_length", p.sharedFf());
        w.putFloat32(a + "embedding_scale", 12f);
        w.putFloat32(a + "residual_scale", 0.22f);
        w.putFloat32(a + "logit_scale", 6f);
        w.putFloat32(a + "attention.scale", 0.0078125f);
        w.putUInt32(a + "ssm.conv_kernel", D_CONV);
        w.putUInt32(a + "ssm.inner_size", p.dInner());
        w.putUInt32(a + "ssm.state_size", p.dState());
        w.putUInt32(a + "ssm.time_step_rank", p.ssmHeads());
        w.putUInt32(a + "ssm.group_count", 1);

        long dim = p.dim();
        rw.matrix("token_embd.weight", dim, p.vocab());
        rw.ones("output_norm.weight", dim);
        rw.matrix("output.weight", dim, p.vocab());
        for (int l = 0; l < p.layers(); l++) {
            String b = "blk." + l + ".";
            rw.ones(b + "attn_norm.weight", dim);
            if (p.isAttention(l)) {
                attention(rw, p, b);
            } else {
                mamba2(rw, p, b);
            }
            rw.ones(b + "ffn_norm.weight", dim);
            rw.f32Matrix(b + "ffn_gate_inp.weight", dim, p.nExperts());
            rw.matrix(b + "ffn_gate_exps.weight", dim, p.expertFf(), p.nExperts());
            rw.matrix(b + "ffn_up_exps.weight", dim, p.expertFf(), p.nExperts());
            rw.matrix(b + "ffn_down_exps.weight", p.expertFf(), dim, p.nExperts());
            rw.matrix(b + "ffn_gate_shexp.weight", dim, p.sharedFf());
            rw.matrix(b + "ffn_up_shexp.weight", dim, p.sharedFf());
            rw.matrix(b + "ffn_down_shexp.weight", p.sharedFf(), dim);
        }
        w.write(out);
    }

    private static void attention(RandomWeights rw, SsmSyntheticModels.GraniteHybrid p, String b) {
        long headDim = p.dim() / p.nHeads();
        long q = p.nHeads() * headDim;
        long kv = p.nKvHeads() * headDim;
        rw.matrix(b + "attn_q.weight", p.dim(), q);
        rw.matrix(b + "attn_k.weight", p.dim(), kv);
        rw.matrix(b + "attn_v.weight", p.dim(), kv);
        rw.matrix(b + "attn_output.weight", q, p.dim());
    }

    // in_proj rows [z | xBC | dt]: 2 d_inner + 2 N + H; conv over xBC (d_inner + 2 N channels)
    private static void mamba2(RandomWeights rw, SsmSyntheticModels.GraniteHybrid p, String b) {
        long conv = p.dInner() + 2L * p.dState();
        long heads = p.ssmHeads();
        rw.matrix(b + "ssm_in.weight", p.dim(), 2L * p.dInner() + 2L * p.dState() + heads);
        rw.f32Matrix(b + "ssm_conv1d.weight", D_CONV, conv);
        rw.uniform(b + "ssm_conv1d.bias", -0.1f, 0.1f, conv);
        // dt_bias = softplus^-1(dt) for dt in [0.001, 0.1]: about [-6.9, -2.25]
        rw.uniform(b + "ssm_dt.bias", -6.9f, -2.25f, heads);
        rw.negativeExp(b + "ssm_a", 1, heads);
        rw.uniform(b + "ssm_d", 0.5f, 1.5f, 1, heads);
        rw.ones(b + "ssm_norm.weight", p.dInner(), 1);
        rw.matrix(b + "ssm_out.weight", p.dInner(), p.dim());
    }
}
