package dev.taipan.runtime.arch.ssm;

import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.Gating;
import dev.taipan.moe.MoeConfig;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.runtime.arch.Weights;
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
        String arch = md.getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
        int dim = SsmBindings.intKey(md, MetaKey.EMBEDDING_LENGTH, arch);
        int nLayers = SsmBindings.intKey(md, MetaKey.BLOCK_COUNT, arch);
        float eps = SsmBindings.rmsEps(md, arch);
        int[] nHead = md.getPerLayerInt(MetaKey.ATTENTION_HEAD_COUNT.key(arch), nLayers);
        int[] nHeadKv = md.getPerLayerInt(MetaKey.ATTENTION_HEAD_COUNT_KV.key(arch), nLayers);
        int[] nFf = md.getPerLayerInt(MetaKey.FEED_FORWARD_LENGTH.key(arch), nLayers);
        int nExpert = md.getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        Mamba1Config ssm = SsmBindings.mamba1Config(md, arch, dim, eps);
        Weights w = new Weights(source);
        List<DecoderLayer> layers = new ArrayList<>(nLayers);
        for (int l = 0; l < nLayers; l++) {
            boolean recurrent = nHeadKv[l] == 0;
            Block mixer;
            if (recurrent) {
                mixer = SsmBindings.mamba1(w, l, ssm, false, ctx);
            } else {
                int headDim = HybridBindings.headDim(md, arch, dim, nHead[l]);
                mixer = HybridBindings.attention(w, l, AttentionConfig.of(dim, nHead[l], nHeadKv[l], headDim),
                        HybridBindings.OutBias.NONE, ctx);
            }
            boolean moe = nExpert > 0 && source.find(TensorName.FFN_GATE_INP.weight(l)).isPresent();
            Block ffn = moe
                    ? HybridBindings.swigluMoe(w, l, dim, nExpert, nFf[l], 0, MoeConfig.of(
                            md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch)), Gating.SOFTMAX, FfnActivation.SWIGLU)
                            .withWeightScale(HybridBindings.expertWeightsScale(md, arch)), ctx)
                    : HybridBindings.swiglu(w, l, dim, nFf[l], ctx);
            LayerKind kind = new LayerKind(recurrent ? LayerKind.Mixer.MAMBA1 : LayerKind.Mixer.ATTENTION,
                    moe ? LayerKind.Ffn.MOE : LayerKind.Ffn.DENSE);
            layers.add(new DecoderLayer(kind, SsmBindings.rms(w, TensorName.ATTN_NORM.weight(l), dim, eps), mixer,
                    SsmBindings.rms(w, TensorName.FFN_NORM.weight(l), dim, eps), ffn, 1f));
        }
        Network.Head head = SsmBindings.head(w, dim, eps, Network.Scales.NONE);
        w.checkAllUsed();
        return new Network(arch, head, layers, ctx);
    }
}
