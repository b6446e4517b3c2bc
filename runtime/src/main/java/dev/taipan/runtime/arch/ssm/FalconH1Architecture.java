package dev.taipan.runtime.arch.ssm;

import dev.taipan.attention.Attention;
import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.moe.FfnActivation;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BlockBinder;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Norm;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.ssm.mamba2.Mamba2Config;
import dev.taipan.ssm.mamba2.Mamba2Mixer;
import dev.taipan.tensor.Rope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code falcon-h1}: TII Falcon-H1, llama.cpp 34af94cd src/models/falcon-h1.cpp. Every layer runs
 * attention (RoPE NEOX) and Mamba-2 side by side on the same {@code attn_norm} output and adds
 * both to the residual ({@link ParallelMixers}); then {@code ffn_norm} and a dense SwiGLU FFN.
 * The μP multipliers of the original checkpoints are folded into the weights by the converter,
 * so the graph has no extra scales. {@code attn_output.bias}, which llama.cpp loads but never
 * uses, and FFN biases are not supported (the file is rejected naming them). No reference
 * fixture exists; the tests check prefill against decoding and the wiring by hand.
 */
public final class FalconH1Architecture implements Architecture {

    @Override
    public Set<String> names() {
        return Set.of("falcon-h1");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Metadata md = source.metadata();
        SsmHparams.Base hp = SsmHparams.Base.read(md);
        String arch = hp.arch();
        SsmHparams.LayerSizes sizes = SsmHparams.LayerSizes.read(md, hp);
        float attnScale = md.getFloat(MetaKey.ATTENTION_SCALE.key(arch), 0f);
        Mamba2Config ssm = SsmHparams.mamba2(md, arch, hp.dim(), hp.eps());
        BlockBinder b = hp.binder(source, ctx);
        LayerBinder m = new LayerBinder(b);
        LayerKind kind = new LayerKind(LayerKind.Mixer.ATTENTION_AND_MAMBA2, LayerKind.Ffn.DENSE);
        List<DecoderLayer> layers = new ArrayList<>(hp.nLayers());
        for (int l = 0; l < hp.nLayers(); l++) {
            AttentionConfig ac = sizes.attention(md, hp, l);
            int nRot = md.getInt(MetaKey.ROPE_DIMENSION_COUNT.key(arch), ac.headDim());
            ac = ac.withRope(Rope.of(Rope.Layout.NEOX, ac.headDim(), nRot,
                    md.getFloat(MetaKey.ROPE_FREQ_BASE.key(arch), 10000f), 1f));
            if (attnScale != 0f) {
                ac = ac.withScale(attnScale);
            }
            Attention attention = b.attention(l, ac, BlockBinder.QkNorm.NONE, BlockBinder.OutBias.NONE);
            Mamba2Mixer mamba = m.mamba2(l, ssm, LayerBinder.Presence.OPTIONAL);
            layers.add(new DecoderLayer(kind, b.rms(TensorName.ATTN_NORM.weight(l)),
                    new ParallelMixers(attention, mamba, hp.dim(), ctx.kernels()), ffnNorm(b, l),
                    b.denseFfn(l, sizes.nFf()[l], FfnActivation.SWIGLU), 1f));
        }
        return b.finish(arch, b.head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE), layers);
    }

    // llama.cpp asks for tn(LLM_TENSOR_FFN_NORM, i), i.e. "blk.N.ffn_norm" without a suffix; the
    // converter writes "blk.N.ffn_norm.weight": accept either
    private static Norm ffnNorm(BlockBinder b, int l) {
        String bare = TensorName.FFN_NORM.plain(l);
        return b.rms(b.source().find(bare).isPresent() ? bare : TensorName.FFN_NORM.weight(l));
    }
}
