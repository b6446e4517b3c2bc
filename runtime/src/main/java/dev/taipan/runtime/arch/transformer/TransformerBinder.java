package dev.taipan.runtime.arch.transformer;

import dev.taipan.attention.Attention;
import dev.taipan.attention.AttentionConfig;
import dev.taipan.attention.AttentionWeights;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.moe.DenseFfn;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.FfnWeights;
import dev.taipan.moe.MoeConfig;
import dev.taipan.moe.MoeWeights;
import dev.taipan.moe.SparseMoe;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Norm;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.tensor.Block;
import dev.taipan.tensor.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * Weight binding shared by the attention/MoE transformer families: the model-wide head, RMS
 * norms, attention, dense FFNs and MoE FFNs, each created with the ggml-order shapes of llama.cpp's
 * {@code load_tensors} (src/models/*.cpp, commit 34af94cd; {@code create_tensor_qkv} in
 * src/llama-model.cpp). A family says which optional parts it has; everything else is rejected by
 * {@link Weights#checkAllUsed()} at the end of its build.
 */
final class TransformerBinder {

    /** Whether {@code output.weight} must exist or falls back to {@code token_embd.weight}. */
    enum Output { REQUIRED, TIED_WHEN_ABSENT }

    /** Where the q/k RMS norms sit, if any. */
    enum QkNorm {
        NONE,
        /** (headDim) weights applied per head: Qwen3. */
        PER_HEAD,
        /** (nHeads * headDim) weights applied to the whole projection before the head split: OLMoE. */
        WHOLE
    }

    /** Whether the family loads {@code attn_output.bias} (llama, granite: optional). */
    enum OutBias { NONE, OPTIONAL }

    /** The shared expert of an MoE layer, if any. */
    enum SharedExpert {
        NONE,
        /** Added to every token's output as is: Granite MoE Shared. */
        UNGATED,
        /** Scaled by {@code sigmoid(ffn_gate_inp_shexp · x)}: Qwen2-MoE. */
        SIGMOID_GATED
    }

    /**
     * How one MoE layer is laid out.
     *
     * @param expertFf  hidden width of each routed expert [n_ff_exp]
     * @param config    routing (top-k, gating, renormalisation, weight scale)
     * @param shared    which shared expert the layer has
     * @param sharedFf  hidden width of the shared expert [n_ff_shexp]; ignored without one
     */
    record MoeLayout(int expertFf, MoeConfig config, SharedExpert shared, int sharedFf) {
    }

    private final Weights weights;
    private final TransformerHparams hp;
    private final BuildContext ctx;

    TransformerBinder(Weights weights, TransformerHparams hp, BuildContext ctx) {
        this.weights = weights;
        this.hp = hp;
        this.ctx = ctx;
        rejectUnsupported();
    }

    Weights weights() {
        return weights;
    }

    BuildContext context() {
        return ctx;
    }

    // tensors llama.cpp may load for these families that we do not implement: fail by name
    private void rejectUnsupported() {
        String file = weights.source().path().toString();
        if (weights.source().find(TensorName.ROPE_FREQS.weight()).isPresent()
                || weights.source().find(TensorName.ROPE_FREQS.weight(0)).isPresent()) {
            throw new ModelFormatException(file + ": tensor '" + TensorName.ROPE_FREQS.weight()
                    + "' (RoPE frequency factors, Llama 3.1 style) is not supported");
        }
        if (weights.source().find(TensorName.ATTN_QKV.weight(0)).isPresent()) {
            throw new ModelFormatException(file + ": tensor '" + TensorName.ATTN_QKV.weight(0)
                    + "' (fused q/k/v projection) is not supported; expected separate attn_q/attn_k/attn_v");
        }
    }

    /** Embeddings (vocab, dim), output norm and lm head with the given scales. */
    Network.Head head(Output output, Network.Scales scales) {
        Tensor embd = weights.source().get(TensorName.TOKEN_EMBD.weight());
        long nVocab = embd.rows();
        embd = weights.get(TensorName.TOKEN_EMBD.weight(), hp.dim(), nVocab);
        Norm outNorm = Norm.rms(weights.vector(TensorName.OUTPUT_NORM.weight(), hp.dim()), hp.rmsEps());
        Optional<Tensor> out = weights.find(TensorName.OUTPUT.weight(), hp.dim(), nVocab);
        if (out.isEmpty() && output == Output.REQUIRED) {
            throw new ModelFormatException(weights.source().path() + ": missing tensor '"
                    + TensorName.OUTPUT.weight() + "'");
        }
        return new Network.Head(embd, outNorm, out.orElse(embd), scales);
    }

    /** The RMS norm {@code name} of layer {@code l} over the model width. */
    Norm rmsNorm(TensorName name, int l) {
        return Norm.rms(weights.vector(name.weight(l), hp.dim()), hp.rmsEps());
    }

    /**
     * Self-attention of layer {@code l}: attn_q/k/v/output, the optional q/k/v biases every family
     * accepts ({@code create_tensor_qkv}), the output bias where {@code outBias} allows it, and the
     * q/k norms of {@code qkNorm}. {@code cfg} carries RoPE and scale.
     */
    Attention attention(int l, AttentionConfig cfg, QkNorm qkNorm, OutBias outBias) {
        int dim = hp.dim();
        int qDim = cfg.qDim();
        int kvDim = cfg.kvDim();
        Tensor wq = weights.get(TensorName.ATTN_Q.weight(l), dim, qDim);
        Tensor wk = weights.get(TensorName.ATTN_K.weight(l), dim, kvDim);
        Tensor wv = weights.get(TensorName.ATTN_V.weight(l), dim, kvDim);
        Tensor wo = weights.get(TensorName.ATTN_OUT.weight(l), qDim, dim);
        AttentionWeights w = AttentionWeights.of(wq, wk, wv, wo).withBiases(
                weights.optionalVector(TensorName.ATTN_Q.bias(l), qDim),
                weights.optionalVector(TensorName.ATTN_K.bias(l), kvDim),
                weights.optionalVector(TensorName.ATTN_V.bias(l), kvDim),
                outBias == OutBias.OPTIONAL ? weights.optionalVector(TensorName.ATTN_OUT.bias(l), dim) : null);
        AttentionConfig c = cfg;
        switch (qkNorm) {
            case NONE -> { }
            case PER_HEAD -> {
                w = w.withQkNorm(weights.vector(TensorName.ATTN_Q_NORM.weight(l), cfg.headDim()),
                        weights.vector(TensorName.ATTN_K_NORM.weight(l), cfg.headDim()));
                c = c.withQkNormEps(hp.rmsEps());
            }
            case WHOLE -> {
                w = w.withQkNorm(weights.vector(TensorName.ATTN_Q_NORM.weight(l), qDim),
                        weights.vector(TensorName.ATTN_K_NORM.weight(l), kvDim));
                c = c.withQkNormEps(hp.rmsEps());
            }
        }
        return new Attention(c, w, ctx.kernels(), ctx.parallel());
    }

    /** Dense SwiGLU FFN of layer {@code l} with hidden width {@code ff}: ffn_gate/up/down. */
    DenseFfn denseFfn(int l, int ff) {
        if (ff < 1) {
            throw new ModelFormatException(hp.origin() + ": layer " + l + " has a dense FFN of width " + ff
                    + " (key '" + MetaKey.FEED_FORWARD_LENGTH.key(hp.arch()) + "')");
        }
        int dim = hp.dim();
        FfnWeights w = new FfnWeights(
                weights.get(TensorName.FFN_GATE.weight(l), dim, ff),
                weights.get(TensorName.FFN_UP.weight(l), dim, ff),
                weights.get(TensorName.FFN_DOWN.weight(l), ff, dim));
        return new DenseFfn(w, FfnActivation.SWIGLU, ctx.kernels(), ctx.parallel());
    }

    /**
     * Sparse MoE FFN of layer {@code l}: ffn_gate_inp (router, F32 in llama.cpp files),
     * ffn_{gate,up,down}_exps as 3-D tensors, and the shared expert of {@code layout}.
     */
    SparseMoe moe(int l, MoeLayout layout) {
        int dim = hp.dim();
        int nExp = hp.nExperts();
        int ff = layout.expertFf();
        if (ff < 1) {
            throw new ModelFormatException(hp.origin() + ": layer " + l + " has experts of width " + ff
                    + " (key '" + MetaKey.EXPERT_FEED_FORWARD_LENGTH.key(hp.arch()) + "')");
        }
        MoeWeights w = MoeWeights.of(
                weights.get(TensorName.FFN_GATE_INP.weight(l), dim, nExp),
                weights.get(TensorName.FFN_GATE_EXPS.weight(l), dim, ff, nExp),
                weights.get(TensorName.FFN_UP_EXPS.weight(l), dim, ff, nExp),
                weights.get(TensorName.FFN_DOWN_EXPS.weight(l), ff, dim, nExp));
        if (layout.shared() != SharedExpert.NONE) {
            int sff = layout.sharedFf();
            FfnWeights shared = new FfnWeights(
                    weights.get(TensorName.FFN_GATE_SHEXP.weight(l), dim, sff),
                    weights.get(TensorName.FFN_UP_SHEXP.weight(l), dim, sff),
                    weights.get(TensorName.FFN_DOWN_SHEXP.weight(l), sff, dim));
            Tensor gate = layout.shared() == SharedExpert.SIGMOID_GATED
                    ? weights.get(TensorName.FFN_GATE_INP_SHEXP.weight(l), dim)
                    : null;
            w = w.withShared(shared, gate);
        }
        return new SparseMoe(layout.config(), w, ctx.kernels(), ctx.parallel());
    }

    /**
     * Decoder layer {@code l}: attn_norm, the attention block, ffn_norm and the FFN block, with
     * {@code residualScale} on both block outputs.
     */
    DecoderLayer layer(int l, Attention attention, Block ffn, float residualScale) {
        LayerKind.Ffn kind = ffn instanceof SparseMoe ? LayerKind.Ffn.MOE : LayerKind.Ffn.DENSE;
        return new DecoderLayer(new LayerKind(LayerKind.Mixer.ATTENTION, kind),
                rmsNorm(TensorName.ATTN_NORM, l), attention, rmsNorm(TensorName.FFN_NORM, l), ffn, residualScale);
    }

    /** The network of these layers, after checking that the file holds no tensor left unbound. */
    Network finish(Network.Head head, List<DecoderLayer> layers) {
        weights.checkAllUsed();
        return new Network(hp.arch(), head, layers, ctx);
    }
}
