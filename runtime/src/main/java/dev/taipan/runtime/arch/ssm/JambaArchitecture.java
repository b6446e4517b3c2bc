package dev.taipan.runtime.arch.ssm;

import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.Gating;
import dev.taipan.moe.MoeConfig;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BlockBinder;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.ssm.mamba1.Mamba1Config;
import dev.taipan.tensor.Block;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code jamba}: AI21 Jamba, llama.cpp 34af94cd src/models/jamba.cpp. A layer is Mamba-1 (with
 * RMS norms on dt, B and C) where its {@code attention.head_count_kv} is 0, attention without
 * RoPE (scale 1/sqrt(head_dim)) otherwise. The FFN is MoE where the layer has
 * {@code ffn_gate_inp} (softmax routing, top-k weights NOT renormalised, SwiGLU experts of width
 * {@code feed_forward_length}), dense SwiGLU elsewhere, as llama.cpp decides it from the file.
 */
public final class JambaArchitecture implements Architecture {

    @Override
    public Set<String> names() {
        return Set.of("jamba");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Metadata md = source.metadata();
        SsmHparams.Base hp = SsmHparams.Base.read(md);
        String arch = hp.arch();
        SsmHparams.LayerSizes sizes = SsmHparams.LayerSizes.read(md, hp);
        int nExpert = md.getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        Mamba1Config ssm = SsmHparams.mamba1(md, arch, hp.dim(), hp.eps());
        BlockBinder b = hp.binder(source, ctx);
        LayerBinder m = new LayerBinder(b);
        List<DecoderLayer> layers = new ArrayList<>(hp.nLayers());
        for (int l = 0; l < hp.nLayers(); l++) {
            boolean recurrent = sizes.nHeadKv()[l] == 0;
            Block mixer;
            if (recurrent) {
                mixer = m.mamba1(l, ssm, LayerBinder.DtBcRms.NONE);
            } else {
                AttentionConfig ac = sizes.attention(md, hp, l);
                mixer = b.attention(l, ac, BlockBinder.QkNorm.NONE, BlockBinder.OutBias.NONE);
            }
            boolean moe = nExpert > 0 && source.find(TensorName.FFN_GATE_INP.weight(l)).isPresent();
            Block ffn = moe
                    ? b.moe(l, nExpert, new BlockBinder.MoeLayout(sizes.nFf()[l], MoeConfig.of(
                            md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch)), Gating.SOFTMAX, FfnActivation.SWIGLU)
                            .withWeightScale(SsmHparams.expertWeightsScale(md, arch)),
                            BlockBinder.SharedExpert.NONE, 0))
                    : b.denseFfn(l, sizes.nFf()[l], FfnActivation.SWIGLU);
            LayerKind kind = new LayerKind(recurrent ? LayerKind.Mixer.MAMBA1 : LayerKind.Mixer.ATTENTION,
                    moe ? LayerKind.Ffn.MOE : LayerKind.Ffn.DENSE);
            layers.add(new DecoderLayer(kind, b.rms(TensorName.ATTN_NORM.weight(l)), mixer,
                    b.rms(TensorName.FFN_NORM.weight(l)), ffn, 1f));
        }
        return b.finish(arch, b.head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE), layers);
    }
}
