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
import dev.taipan.ssm.mamba2.Mamba2Config;
import dev.taipan.tensor.Block;
import dev.taipan.tensor.Rope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code granitehybrid}: IBM Granite 4.0 (GraniteMoeHybrid), llama.cpp 34af94cd
 * src/models/granite-hybrid.cpp. A layer is Mamba-2 where its {@code attention.head_count_kv}
 * is 0 and attention otherwise; every layer then has an FFN: MoE when {@code expert_count > 0}
 * (softmax routing, top-k renormalised, SwiGLU experts of width {@code feed_forward_length}, an
 * ungated shared expert of width {@code expert_shared_feed_forward_length} when positive), dense
 * SwiGLU otherwise. Granite's scales: embeddings times {@code embedding_scale}, both block
 * outputs times {@code residual_scale}, logits divided by {@code logit_scale}, q·k times
 * {@code attention.scale} (each absent or 0 = not applied). RoPE NORMAL only when
 * {@code rope.scaling.finetuned} is true (the default); Granite 4 files set it false.
 */
public final class GraniteHybridArchitecture implements Architecture {

    @Override
    public Set<String> names() {
        return Set.of("granitehybrid");
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
        int sharedFf = md.getInt(MetaKey.EXPERT_SHARED_FEED_FORWARD_LENGTH.key(arch), 0);
        float attnScale = md.getFloat(MetaKey.ATTENTION_SCALE.key(arch), 0f);
        float residualScale = orOne(md.getFloat(MetaKey.RESIDUAL_SCALE.key(arch), 0f));
        Network.Scales scales = new Network.Scales(orOne(md.getFloat(MetaKey.EMBEDDING_SCALE.key(arch), 0f)),
                orOne(md.getFloat(MetaKey.LOGIT_SCALE.key(arch), 0f)));
        boolean useRope = md.getBool(MetaKey.ROPE_SCALING_FINETUNED.key(arch), true);
        Mamba2Config ssm = SsmBindings.mamba2Config(md, arch, dim, eps);
        MoeConfig moe = nExpert > 0
                ? MoeConfig.of(md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch)), Gating.SOFTMAX, FfnActivation.SWIGLU)
                        .withRenormalize().withWeightScale(HybridBindings.expertWeightsScale(md, arch))
                : null;
        Weights w = new Weights(source);
        List<DecoderLayer> layers = new ArrayList<>(nLayers);
        for (int l = 0; l < nLayers; l++) {
            boolean recurrent = nHeadKv[l] == 0;
            Block mixer;
            if (recurrent) {
                mixer = SsmBindings.mamba2(w, l, ssm, true, ctx);
            } else {
                int headDim = HybridBindings.headDim(md, arch, dim, nHead[l]);
                AttentionConfig ac = AttentionConfig.of(dim, nHead[l], nHeadKv[l], headDim);
                if (attnScale != 0f) {
                    ac = ac.withScale(attnScale);
                }
                if (useRope) {
                    ac = ac.withRope(rope(md, arch, headDim));
                }
                mixer = HybridBindings.attention(w, l, ac, HybridBindings.OutBias.OPTIONAL, ctx);
            }
            Block ffn = moe != null
                    ? HybridBindings.swigluMoe(w, l, dim, nExpert, nFf[l], sharedFf, moe, ctx)
                    : HybridBindings.swiglu(w, l, dim, nFf[l], ctx);
            LayerKind kind = new LayerKind(recurrent ? LayerKind.Mixer.MAMBA2 : LayerKind.Mixer.ATTENTION,
                    moe != null ? LayerKind.Ffn.MOE : LayerKind.Ffn.DENSE);
            layers.add(new DecoderLayer(kind, SsmBindings.rms(w, TensorName.ATTN_NORM.weight(l), dim, eps), mixer,
                    SsmBindings.rms(w, TensorName.FFN_NORM.weight(l), dim, eps), ffn, residualScale));
        }
        Network.Head head = SsmBindings.head(w, dim, eps, scales);
        w.checkAllUsed();
        return new Network(arch, head, layers, ctx);
    }

    /** RoPE NORMAL with {@code rope.freq_base} (default 10000) over {@code rope.dimension_count}. */
    static Rope rope(Metadata md, String arch, int headDim) {
        int nRot = md.getInt(MetaKey.ROPE_DIMENSION_COUNT.key(arch), headDim);
        return Rope.of(Rope.Layout.NORMAL, headDim, nRot, md.getFloat(MetaKey.ROPE_FREQ_BASE.key(arch), 10000f), 1f);
    }

    // llama.cpp treats 0 (the default when the key is absent) as "no scaling"
    private static float orOne(float v) {
        return v == 0f ? 1f : v;
    }
}
