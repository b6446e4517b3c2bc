package dev.taipan.runtime.arch;

import dev.taipan.attention.Attention;
import dev.taipan.attention.AttentionConfig;
import dev.taipan.attention.AttentionWeights;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.moe.DenseFfn;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.FfnWeights;
import dev.taipan.moe.MoeConfig;
import dev.taipan.moe.MoeWeights;
import dev.taipan.moe.SparseMoe;
import dev.taipan.tensor.Tensor;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Binds the blocks every family shares by their llama.cpp names, with the ggml-order shapes of
 * {@code load_tensors} (src/models/*.cpp, commit 34af94cd; {@code create_tensor_qkv} in
 * src/llama-model.cpp): RMS norms, self-attention, dense and MoE FFNs, and the head. The
 * transformer, SSM/hybrid and Mamba-3 families say which optional parts they have; a missing or
 * misshaped tensor fails at load naming it, and {@link #finish} rejects tensors no binding asked for.
 * A block constructor's complaint becomes a {@link ModelFormatException} naming the file.
 */
public final class BlockBinder {

    /** Whether {@code output.weight} must exist or falls back to {@code token_embd.weight}. */
    public enum Output { REQUIRED, TIED_WHEN_ABSENT }

    /** Where the q/k RMS norms sit, if any. */
    public enum QkNorm {
        NONE,
        /** (headDim) weights applied per head: Qwen3. */
        PER_HEAD,
        /** (nHeads * headDim) weights applied to the whole projection before the head split: OLMoE. */
        WHOLE
    }

    /** Whether {@code attn_output.bias} is bound (optional) or not looked for. */
    public enum OutBias { NONE, OPTIONAL }

    /** The shared expert of an MoE layer, if any. */
    public enum SharedExpert {
        NONE,
        /** Added to every token's output as is: Granite MoE Shared, Granite hybrid, Nemotron-H. */
        UNGATED,
        /** Scaled by {@code sigmoid(ffn_gate_inp_shexp · x)}: Qwen2-MoE. */
        SIGMOID_GATED
    }

    /**
     * How one MoE layer is laid out.
     *
     * @param expertFf  hidden width of each routed expert [n_ff_exp]
     * @param config    routing (top-k, gating, renormalisation, weight scale, expert activation)
     * @param shared    which shared expert the layer has
     * @param sharedFf  hidden width of the shared expert [n_ff_shexp]; ignored without one
     */
    public record MoeLayout(int expertFf, MoeConfig config, SharedExpert shared, int sharedFf) {
    }

    private final Weights weights;
    private final BuildContext ctx;
    private final int dim;
    private final float eps;

    /** Binds from {@code weights} for a model of width {@code dim} and RMS epsilon {@code eps}. */
    public BlockBinder(Weights weights, BuildContext ctx, int dim, float eps) {
        this.weights = weights;
        this.ctx = ctx;
        this.dim = dim;
        this.eps = eps;
    }

    public Weights weights() {
        return weights;
    }

    public TensorSource source() {
        return weights.source();
    }

    public BuildContext context() {
        return ctx;
    }

    /** The model width. */
    public int dim() {
        return dim;
    }

    /** An RMS norm over the model width from tensor {@code name}. */
    public Norm rms(String name) {
        return Norm.rms(weights.vector(name, dim), eps);
    }

    /** The RMS norm {@code name} of layer {@code l} over the model width. */
    public Norm rms(TensorName name, int l) {
        return rms(name.weight(l));
    }

    /**
     * Self-attention of layer {@code l}: attn_q/k/v/output, the optional q/k/v biases every family
     * accepts ({@code create_tensor_qkv}), the output bias where {@code outBias} allows it, and the
     * q/k norms of {@code qkNorm}. {@code cfg} carries RoPE and scale.
     */
    public Attention attention(int l, AttentionConfig cfg, QkNorm qkNorm, OutBias outBias) {
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
                c = c.withQkNormEps(eps);
            }
            case WHOLE -> {
                w = w.withQkNorm(weights.vector(TensorName.ATTN_Q_NORM.weight(l), qDim),
                        weights.vector(TensorName.ATTN_K_NORM.weight(l), kvDim));
                c = c.withQkNormEps(eps);
            }
        }
        AttentionConfig bc = c;
        AttentionWeights bw = w;
        return checked(() -> new Attention(bc, bw, ctx.kernels(), ctx.parallel()));
    }

    /**
     * Dense FFN of layer {@code l} with hidden width {@code ff}: ffn_gate/up/down for
     * {@link FfnActivation#SWIGLU}, the ungated ffn_up/down of {@code down(relu(up x)^2)} for
     * {@link FfnActivation#RELU2} (nemotron_h).
     */
    public DenseFfn denseFfn(int l, int ff, FfnActivation activation) {
        Tensor gate = activation == FfnActivation.RELU2 ? null : weights.get(TensorName.FFN_GATE.weight(l), dim, ff);
        FfnWeights w = new FfnWeights(gate, weights.get(TensorName.FFN_UP.weight(l), dim, ff),
                weights.get(TensorName.FFN_DOWN.weight(l), ff, dim));
        return checked(() -> new DenseFfn(w, activation, ctx.kernels(), ctx.parallel()));
    }

    /**
     * Sparse MoE FFN of layer {@code l} with {@code nExpert} SwiGLU experts: ffn_gate_inp (router,
     * F32 in llama.cpp files), ffn_{gate,up,down}_exps as 3-D tensors, and the shared expert
     * ffn_{gate,up,down}_shexp of {@code layout} (with ffn_gate_inp_shexp when sigmoid-gated).
     */
    public SparseMoe moe(int l, int nExpert, MoeLayout layout) {
        int ff = layout.expertFf();
        MoeWeights w = MoeWeights.of(
                weights.get(TensorName.FFN_GATE_INP.weight(l), dim, nExpert),
                weights.get(TensorName.FFN_GATE_EXPS.weight(l), dim, ff, nExpert),
                weights.get(TensorName.FFN_UP_EXPS.weight(l), dim, ff, nExpert),
                weights.get(TensorName.FFN_DOWN_EXPS.weight(l), ff, dim, nExpert));
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
        MoeWeights bound = w;
        return checked(() -> new SparseMoe(layout.config(), bound, ctx.kernels(), ctx.parallel()));
    }

    /**
     * Sparse MoE of layer {@code l} with {@code nExpert} ungated relu² experts (nemotron_h_moe):
     * ffn_gate_inp, the selection bias exp_probs_b.bias, ffn_{up,down}_exps and the ungated shared
     * expert ffn_{up,down}_shexp of width {@code layout.sharedFf()}.
     */
    public SparseMoe relu2Moe(int l, int nExpert, MoeLayout layout) {
        int ff = layout.expertFf();
        int sff = layout.sharedFf();
        MoeWeights w = MoeWeights.of(weights.get(TensorName.FFN_GATE_INP.weight(l), dim, nExpert), null,
                        weights.get(TensorName.FFN_UP_EXPS.weight(l), dim, ff, nExpert),
                        weights.get(TensorName.FFN_DOWN_EXPS.weight(l), ff, dim, nExpert))
                .withSelectionBias(weights.vector(TensorName.FFN_EXP_PROBS_B.bias(l), nExpert))
                .withShared(new FfnWeights(null, weights.get(TensorName.FFN_UP_SHEXP.weight(l), dim, sff),
                        weights.get(TensorName.FFN_DOWN_SHEXP.weight(l), sff, dim)), null);
        return checked(() -> new SparseMoe(layout.config(), w, ctx.kernels(), ctx.parallel()));
    }

    /** Embeddings (vocab, dim), output norm and lm head with the given scales. */
    public Network.Head head(Output output, Network.Scales scales) {
        String embdName = TensorName.TOKEN_EMBD.weight();
        long nVocab = weights.source().get(embdName).rows();
        Tensor embd = weights.get(embdName, dim, nVocab);
        Norm outNorm = rms(TensorName.OUTPUT_NORM.weight());
        Optional<Tensor> out = weights.find(TensorName.OUTPUT.weight(), dim, nVocab);
        if (out.isEmpty() && output == Output.REQUIRED) {
            throw new ModelFormatException(weights.source().path() + ": missing tensor '"
                    + TensorName.OUTPUT.weight() + "'");
        }
        return new Network.Head(embd, outNorm, out.orElse(embd), scales);
    }

    /** The network of these layers, after checking that the file holds no tensor left unbound. */
    public Network finish(String arch, Network.Head head, List<DecoderLayer> layers) {
        weights.checkAllUsed();
        return new Network(arch, head, layers, ctx);
    }

    /** Turns a block constructor's complaint into a load error naming the file. */
    public <T> T checked(Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(weights.source().path() + ": " + e.getMessage(), e);
        }
    }
}
