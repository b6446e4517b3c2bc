package dev.taipan.runtime.arch.ssm;

import dev.taipan.attention.Attention;
import dev.taipan.attention.AttentionConfig;
import dev.taipan.attention.AttentionWeights;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.moe.DenseFfn;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.FfnWeights;
import dev.taipan.moe.MoeConfig;
import dev.taipan.moe.MoeWeights;
import dev.taipan.moe.SparseMoe;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.tensor.Tensor;

/**
 * Attention and FFN bindings of the hybrid SSM families (jamba, granitehybrid, nemotron_h,
 * falcon-h1), with the ggml-order shapes of their llama.cpp {@code load_arch_tensors}
 * (src/models/*.cpp, 34af94cd; {@code create_tensor_qkv} accepts optional q/k/v biases).
 */
final class HybridBindings {

    /** Whether {@code attn_output.bias} is loaded and used (granitehybrid, nemotron_h) or not bound. */
    enum OutBias { NONE, OPTIONAL }

    private HybridBindings() {
    }

    /**
     * Width of one attention head: {@code attention.key_length} when present, else
     * {@code embedding_length / head_count} (llama.cpp's n_embd_head_k default).
     */
    static int headDim(Metadata md, String arch, int dim, int nHeads) {
        String key = MetaKey.ATTENTION_KEY_LENGTH.key(arch);
        if (md.has(key)) {
            return md.getInt(key);
        }
        if (nHeads < 1 || dim % nHeads != 0) {
            throw new ModelFormatException(md.origin() + ": '" + MetaKey.ATTENTION_HEAD_COUNT.key(arch) + "' = "
                    + nHeads + " does not divide the embedding length " + dim + " and '" + key + "' is absent");
        }
        return dim / nHeads;
    }

    /** Self-attention of layer {@code l}: attn_q/k/v/output with optional q/k/v (and output) biases. */
    static Attention attention(Weights w, int l, AttentionConfig cfg, OutBias outBias, BuildContext ctx) {
        int dim = cfg.dim();
        int qDim = cfg.qDim();
        int kvDim = cfg.kvDim();
        Tensor wq = w.get(TensorName.ATTN_Q.weight(l), dim, qDim);
        Tensor wk = w.get(TensorName.ATTN_K.weight(l), dim, kvDim);
        Tensor wv = w.get(TensorName.ATTN_V.weight(l), dim, kvDim);
        Tensor wo = w.get(TensorName.ATTN_OUT.weight(l), qDim, dim);
        AttentionWeights aw = AttentionWeights.of(wq, wk, wv, wo).withBiases(
                w.optionalVector(TensorName.ATTN_Q.bias(l), qDim),
                w.optionalVector(TensorName.ATTN_K.bias(l), kvDim),
                w.optionalVector(TensorName.ATTN_V.bias(l), kvDim),
                outBias == OutBias.OPTIONAL ? w.optionalVector(TensorName.ATTN_OUT.bias(l), dim) : null);
        return SsmBindings.wrap(w, () -> new Attention(cfg, aw, ctx.kernels(), ctx.parallel()));
    }

    /** Dense SwiGLU FFN of layer {@code l}: ffn_gate/up/down of hidden width {@code ff}. */
    static DenseFfn swiglu(Weights w, int l, int dim, int ff, BuildContext ctx) {
        FfnWeights fw = new FfnWeights(w.get(TensorName.FFN_GATE.weight(l), dim, ff),
                w.get(TensorName.FFN_UP.weight(l), dim, ff), w.get(TensorName.FFN_DOWN.weight(l), ff, dim));
        return SsmBindings.wrap(w, () -> new DenseFfn(fw, FfnActivation.SWIGLU, ctx.kernels(), ctx.parallel()));
    }

    /** Ungated {@code down(relu(up x)^2)} FFN of layer {@code l} (nemotron_h): ffn_up/down. */
    static DenseFfn relu2(Weights w, int l, int dim, int ff, BuildContext ctx) {
        FfnWeights fw = new FfnWeights(null, w.get(TensorName.FFN_UP.weight(l), dim, ff),
                w.get(TensorName.FFN_DOWN.weight(l), ff, dim));
        return SsmBindings.wrap(w, () -> new DenseFfn(fw, FfnActivation.RELU2, ctx.kernels(), ctx.parallel()));
    }

    /**
     * Sparse MoE of layer {@code l} with SwiGLU experts of width {@code ff}: ffn_gate_inp and
     * ffn_{gate,up,down}_exps, plus the ungated shared expert ffn_{gate,up,down}_shexp of width
     * {@code sharedFf} when it is positive (Granite MoE Shared).
     */
    static SparseMoe swigluMoe(Weights w, int l, int dim, int nExpert, int ff, int sharedFf, MoeConfig config,
                               BuildContext ctx) {
        MoeWeights mw = MoeWeights.of(w.get(TensorName.FFN_GATE_INP.weight(l), dim, nExpert),
                w.get(TensorName.FFN_GATE_EXPS.weight(l), dim, ff, nExpert),
                w.get(TensorName.FFN_UP_EXPS.weight(l), dim, ff, nExpert),
                w.get(TensorName.FFN_DOWN_EXPS.weight(l), ff, dim, nExpert));
        if (sharedFf > 0) {
            mw = mw.withShared(new FfnWeights(w.get(TensorName.FFN_GATE_SHEXP.weight(l), dim, sharedFf),
                    w.get(TensorName.FFN_UP_SHEXP.weight(l), dim, sharedFf),
                    w.get(TensorName.FFN_DOWN_SHEXP.weight(l), sharedFf, dim)), null);
        }
        MoeWeights bound = mw;
        return SsmBindings.wrap(w, () -> new SparseMoe(config, bound, ctx.kernels(), ctx.parallel()));
    }

    /** {@code expert_weights_scale} as a factor: absent or 0 mean none (llama.cpp's default 0). */
    static float expertWeightsScale(Metadata md, String arch) {
        float s = md.getFloat(MetaKey.EXPERT_WEIGHTS_SCALE.key(arch), 0f);
        return s == 0f ? 1f : s;
    }
}
