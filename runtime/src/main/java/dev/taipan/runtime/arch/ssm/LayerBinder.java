package dev.taipan.runtime.arch.ssm;

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
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Norm;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.ssm.mamba1.Mamba1Config;
import dev.taipan.ssm.mamba1.Mamba1Mixer;
import dev.taipan.ssm.mamba1.Mamba1Weights;
import dev.taipan.ssm.mamba2.Mamba2Config;
import dev.taipan.ssm.mamba2.Mamba2Mixer;
import dev.taipan.ssm.mamba2.Mamba2Weights;
import dev.taipan.tensor.Tensor;
import java.util.List;
import java.util.function.Supplier;

/**
 * Binds the blocks of the SSM and hybrid families by their llama.cpp names, with the ggml-order
 * shapes of their {@code load_arch_tensors} (src/models/*.cpp, 34af94cd;
 * {@code create_tensor_qkv} for attention): Mamba-1 and Mamba-2 mixers, attention, dense and MoE
 * FFNs, norms and the head. A missing or misshaped tensor fails at load naming it, and
 * {@link #finish} rejects tensors no binding asked for.
 */
final class LayerBinder {

    /** Whether a tensor must be in the file or may be absent. */
    enum Presence { REQUIRED, OPTIONAL }

    /** Whether {@code attn_output.bias} is bound (optional) or not looked for. */
    enum OutBias { NONE, OPTIONAL }

    /** What Mamba-1 does when the dt/B/C norm tensors are absent: nothing, or weightless RMS norms. */
    enum DtBcRms { NONE, WEIGHTLESS }

    /**
     * The routed experts of one MoE layer: SwiGLU experts of width {@code ff}, plus an ungated
     * SwiGLU shared expert of width {@code sharedFf} when it is positive.
     */
    record MoeLayout(int nExpert, int ff, int sharedFf, MoeConfig config) {
    }

    private final Weights weights;
    private final BuildContext ctx;
    private final int dim;
    private final float eps;

    /** Binds from {@code source} for a model of width {@code dim} and RMS epsilon {@code eps}. */
    LayerBinder(TensorSource source, BuildContext ctx, int dim, float eps) {
        this.weights = new Weights(source);
        this.ctx = ctx;
        this.dim = dim;
        this.eps = eps;
    }

    TensorSource source() {
        return weights.source();
    }

    /** An RMS norm over the model width from tensor {@code name}. */
    Norm rms(String name) {
        return Norm.rms(weights.vector(name, dim), eps);
    }

    /** The Mamba-2 mixer of layer {@code l} (build_mamba2_layer); the conv bias is always optional. */
    Mamba2Mixer mamba2(int l, Mamba2Config c, Presence norm) {
        Tensor in = weights.get(TensorName.SSM_IN.weight(l), dim, c.inProjDim());
        float[] conv = Weights.toFloats(weights.get(TensorName.SSM_CONV1D.weight(l), c.dConv(), c.convDim()));
        float[] convBias = weights.optionalVector(TensorName.SSM_CONV1D.bias(l), c.convDim());
        float[] dtBias = weights.vector(TensorName.SSM_DT.bias(l), c.nHeads());
        float[] a = Weights.toFloats(weights.get(TensorName.SSM_A.plain(l), 1, c.nHeads()));
        float[] d = Weights.toFloats(weights.get(TensorName.SSM_D.plain(l), 1, c.nHeads()));
        long groupSize = c.dInner() / c.nGroups();
        String normName = TensorName.SSM_NORM.weight(l);
        float[] normWeight = norm == Presence.REQUIRED
                ? Weights.toFloats(weights.get(normName, groupSize, c.nGroups()))
                : weights.find(normName, groupSize, c.nGroups()).map(Weights::toFloats).orElse(null);
        Tensor out = weights.get(TensorName.SSM_OUT.weight(l), c.dInner(), dim);
        Mamba2Weights w = new Mamba2Weights(in, conv, convBias, dtBias, a, d, normWeight, out);
        return checked(() -> new Mamba2Mixer(c, w, ctx.kernels(), ctx.parallel()));
    }

    /**
     * The Mamba-1 mixer of layer {@code l} (build_mamba_layer). The dt/B/C RMS norms are used when
     * all three tensors are present (Jamba), else as {@code absent} says (FalconMamba's
     * {@code ssm.dt_b_c_rms}: weightless).
     */
    Mamba1Mixer mamba1(int l, Mamba1Config c, DtBcRms absent) {
        Tensor in = weights.get(TensorName.SSM_IN.weight(l), dim, 2L * c.dInner());
        float[] conv = Weights.toFloats(weights.get(TensorName.SSM_CONV1D.weight(l), c.dConv(), c.dInner()));
        float[] convBias = weights.vector(TensorName.SSM_CONV1D.bias(l), c.dInner());
        Tensor xProj = weights.get(TensorName.SSM_X.weight(l), c.dInner(), c.xProjDim());
        Tensor dtProj = weights.get(TensorName.SSM_DT.weight(l), c.dtRank(), c.dInner());
        float[] dtBias = weights.vector(TensorName.SSM_DT.bias(l), c.dInner());
        float[] a = Weights.toFloats(weights.get(TensorName.SSM_A.plain(l), c.dState(), c.dInner()));
        float[] d = weights.vector(TensorName.SSM_D.plain(l), c.dInner());
        float[] dtNorm = weights.optionalVector(TensorName.SSM_DT_NORM.weight(l), c.dtRank());
        float[] bNorm = weights.optionalVector(TensorName.SSM_B_NORM.weight(l), c.dState());
        float[] cNorm = weights.optionalVector(TensorName.SSM_C_NORM.weight(l), c.dState());
        Tensor out = weights.get(TensorName.SSM_OUT.weight(l), c.dInner(), dim);
        Mamba1Weights.Norms norms;
        if (dtNorm != null && bNorm != null && cNorm != null) {
            norms = new Mamba1Weights.Norms(dtNorm, bNorm, cNorm);
        } else {
            norms = absent == DtBcRms.WEIGHTLESS ? Mamba1Weights.Norms.UNWEIGHTED : null;
        }
        Mamba1Weights w = new Mamba1Weights(in, conv, convBias, xProj, dtProj, dtBias, a, d, norms, out);
        return checked(() -> new Mamba1Mixer(c, w, ctx.kernels(), ctx.parallel()));
    }

    /**
     * Self-attention of layer {@code l}: attn_q/k/v/output with optional q/k/v biases, and the
     * optional output bias where {@code outBias} is {@link OutBias#OPTIONAL} (else not bound).
     */
    Attention attention(int l, AttentionConfig cfg, OutBias outBias) {
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
        return checked(() -> new Attention(cfg, w, ctx.kernels(), ctx.parallel()));
    }

    /** Dense SwiGLU FFN of layer {@code l}: ffn_gate/up/down of hidden width {@code ff}. */
    DenseFfn swiglu(int l, int ff) {
        FfnWeights w = new FfnWeights(weights.get(TensorName.FFN_GATE.weight(l), dim, ff),
                weights.get(TensorName.FFN_UP.weight(l), dim, ff), weights.get(TensorName.FFN_DOWN.weight(l), ff, dim));
        return checked(() -> new DenseFfn(w, FfnActivation.SWIGLU, ctx.kernels(), ctx.parallel()));
    }

    /** Ungated {@code down(relu(up x)^2)} FFN of layer {@code l} (nemotron_h): ffn_up/down. */
    DenseFfn relu2(int l, int ff) {
        FfnWeights w = new FfnWeights(null, weights.get(TensorName.FFN_UP.weight(l), dim, ff),
                weights.get(TensorName.FFN_DOWN.weight(l), ff, dim));
        return checked(() -> new DenseFfn(w, FfnActivation.RELU2, ctx.kernels(), ctx.parallel()));
    }

    /**
     * Sparse MoE of layer {@code l} with SwiGLU experts: ffn_gate_inp, ffn_{gate,up,down}_exps and,
     * when the layout has one, the ungated shared expert ffn_{gate,up,down}_shexp (Granite).
     */
    SparseMoe swigluMoe(int l, MoeLayout layout) {
        int ff = layout.ff();
        MoeWeights w = MoeWeights.of(weights.get(TensorName.FFN_GATE_INP.weight(l), dim, layout.nExpert()),
                weights.get(TensorName.FFN_GATE_EXPS.weight(l), dim, ff, layout.nExpert()),
                weights.get(TensorName.FFN_UP_EXPS.weight(l), dim, ff, layout.nExpert()),
                weights.get(TensorName.FFN_DOWN_EXPS.weight(l), ff, dim, layout.nExpert()));
        int sff = layout.sharedFf();
        if (sff > 0) {
            w = w.withShared(new FfnWeights(weights.get(TensorName.FFN_GATE_SHEXP.weight(l), dim, sff),
                    weights.get(TensorName.FFN_UP_SHEXP.weight(l), dim, sff),
                    weights.get(TensorName.FFN_DOWN_SHEXP.weight(l), sff, dim)), null);
        }
        MoeWeights bound = w;
        return checked(() -> new SparseMoe(layout.config(), bound, ctx.kernels(), ctx.parallel()));
    }

    /**
     * Sparse MoE of layer {@code l} with ungated relu² experts (nemotron_h_moe): ffn_gate_inp, the
     * selection bias exp_probs_b.bias, ffn_{up,down}_exps and the ungated shared expert
     * ffn_{up,down}_shexp.
     */
    SparseMoe relu2Moe(int l, MoeLayout layout) {
        int ff = layout.ff();
        int sff = layout.sharedFf();
        MoeWeights w = MoeWeights.of(weights.get(TensorName.FFN_GATE_INP.weight(l), dim, layout.nExpert()), null,
                        weights.get(TensorName.FFN_UP_EXPS.weight(l), dim, ff, layout.nExpert()),
                        weights.get(TensorName.FFN_DOWN_EXPS.weight(l), ff, dim, layout.nExpert()))
                .withSelectionBias(weights.vector(TensorName.FFN_EXP_PROBS_B.bias(l), layout.nExpert()))
                .withShared(new FfnWeights(null, weights.get(TensorName.FFN_UP_SHEXP.weight(l), dim, sff),
                        weights.get(TensorName.FFN_DOWN_SHEXP.weight(l), sff, dim)), null);
        return checked(() -> new SparseMoe(layout.config(), w, ctx.kernels(), ctx.parallel()));
    }

    /**
     * The network: embeddings, output norm and lm head ({@code output.weight} optional, else tied
     * to the embeddings, as every SSM family's load_arch_tensors), after checking that the file
     * holds no tensor left unbound.
     */
    Network finish(String arch, List<DecoderLayer> layers, Network.Scales scales) {
        String embdName = TensorName.TOKEN_EMBD.weight();
        long vocab = weights.source().get(embdName).rows();
        Tensor embd = weights.get(embdName, dim, vocab);
        Tensor output = weights.find(TensorName.OUTPUT.weight(), dim, vocab).orElse(embd);
        Network.Head head = new Network.Head(embd, rms(TensorName.OUTPUT_NORM.weight()), output, scales);
        weights.checkAllUsed();
        return new Network(arch, head, layers, ctx);
    }

    /** Turns a block constructor's complaint into a load error naming the file. */
    private <T> T checked(Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(weights.source().path() + ": " + e.getMessage(), e);
        }
    }
}
