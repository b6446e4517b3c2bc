package dev.taipan.runtime.arch.transformer;

import dev.taipan.attention.Attention;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.moe.DenseFfn;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.SparseMoe;
import dev.taipan.runtime.arch.BlockBinder;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.tensor.Block;
import dev.taipan.tensor.Rope;
import java.util.List;

/**
 * The transformer families' binding rules on top of the shared {@link BlockBinder}: tensors
 * llama.cpp may load for these families that we do not implement are rejected by name, FFN widths
 * are checked against their metadata key, and a decoder layer is attn_norm, attention, ffn_norm,
 * FFN. A family says which optional parts it has; everything else is rejected by
 * {@link BlockBinder#finish} at the end of its build.
 */
final class TransformerBinder {

    private final BlockBinder blocks;
    private final TransformerHparams hp;

    TransformerBinder(Weights weights, TransformerHparams hp, BuildContext ctx) {
        this.blocks = new BlockBinder(weights, ctx, hp.dim(), hp.rmsEps());
        this.hp = hp;
        rejectUnsupported(weights);
    }

    /** The shared binder: attention, norms, head. */
    BlockBinder blocks() {
        return blocks;
    }

    Weights weights() {
        return blocks.weights();
    }

    BuildContext context() {
        return blocks.context();
    }

    // tensors llama.cpp may load for these families that we do not implement: fail by name
    private static void rejectUnsupported(Weights weights) {
        String file = weights.source().path().toString();
        if (weights.source().find(TensorName.ATTN_QKV.weight(0)).isPresent()) {
            throw new ModelFormatException(file + ": tensor '" + TensorName.ATTN_QKV.weight(0)
                    + "' (fused q/k/v projection) is not supported; expected separate attn_q/attn_k/attn_v");
        }
    }

    /**
     * RoPE over whole heads in {@code layout} with the model's base and linear scale and, when the
     * file has {@code rope_freqs.weight} (Llama 3.1+: {@code head_dim / 2} F32 divisors of the
     * angles, llama.cpp {@code LLM_TENSOR_ROPE_FREQS} passed to {@code ggml_rope_ext}), its
     * frequency factors. Only architectures whose llama.cpp graph applies the factors call this.
     */
    Rope ropeWithFactors(Rope.Layout layout) {
        Rope rope = hp.rope(layout);
        String name = TensorName.ROPE_FREQS.weight();
        float[] factors = weights().optionalVector(name, rope.nRot() / 2);
        if (factors == null) {
            return rope;
        }
        try {
            return rope.withFreqFactors(factors);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(weights().source().path() + ": tensor '" + name + "': " + e.getMessage());
        }
    }

    /** Dense SwiGLU FFN of layer {@code l} with hidden width {@code ff}: ffn_gate/up/down. */
    DenseFfn denseFfn(int l, int ff) {
        if (ff < 1) {
            throw new ModelFormatException(hp.origin() + ": layer " + l + " has a dense FFN of width " + ff
                    + " (key '" + MetaKey.FEED_FORWARD_LENGTH.key(hp.arch()) + "')");
        }
        return blocks.denseFfn(l, ff, FfnActivation.SWIGLU);
    }

    /** Sparse MoE FFN of layer {@code l} with the model's experts, laid out as {@code layout}. */
    SparseMoe moe(int l, BlockBinder.MoeLayout layout) {
        int ff = layout.expertFf();
        if (ff < 1) {
            throw new ModelFormatException(hp.origin() + ": layer " + l + " has experts of width " + ff
                    + " (key '" + MetaKey.EXPERT_FEED_FORWARD_LENGTH.key(hp.arch()) + "')");
        }
        return blocks.moe(l, hp.nExperts(), layout);
    }

    /**
     * Decoder layer {@code l}: attn_norm, the attention block, ffn_norm and the FFN block, with
     * {@code residualScale} on both block outputs.
     */
    DecoderLayer layer(int l, Attention attention, Block ffn, float residualScale) {
        LayerKind.Ffn kind = ffn instanceof SparseMoe ? LayerKind.Ffn.MOE : LayerKind.Ffn.DENSE;
        return new DecoderLayer(new LayerKind(LayerKind.Mixer.ATTENTION, kind),
                blocks.rms(TensorName.ATTN_NORM, l), attention, blocks.rms(TensorName.FFN_NORM, l), ffn, residualScale);
    }

    /** The network of these layers, after checking that the file holds no tensor left unbound. */
    Network finish(Network.Head head, List<DecoderLayer> layers) {
        String ropeFreqs = TensorName.ROPE_FREQS.weight();
        if (weights().source().find(ropeFreqs).isPresent() && !weights().isUsed(ropeFreqs)) {
            throw new ModelFormatException(weights().source().path() + ": tensor '" + ropeFreqs
                    + "' (RoPE frequency factors) is not supported by architecture '" + hp.arch() + "'");
        }
        return blocks.finish(hp.arch(), head, layers);
    }
}
