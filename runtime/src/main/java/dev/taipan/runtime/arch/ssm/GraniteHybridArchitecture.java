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
 * SwiGLU otherwise (FFN biases are not supported: such files are rejected naming them). Granite's
 * scales: embeddings times {@code embedding_scale}, both block outputs times
 * {@code residual_scale}, logits divided by {@code logit_scale}, q·k times
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
        SsmHparams.Base hp = SsmHparams.Base.read(md);
        String arch = hp.arch();
        SsmHparams.LayerSizes sizes = SsmHparams.LayerSizes.read(md, hp);
        int nExpert = md.getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        int sharedFf = md.getInt(MetaKey.EXPERT_SHARED_FEED_FORWARD_LENGTH.key(arch), 0);
        float attnScale = md.getFloat(MetaKey.ATTENTION_SCALE.key(arch), 0f);
        float residualScale = SsmHparams.orOne(md.getFloat(MetaKey.RESIDUAL_SCALE.key(arch), 0f));
        Network.Scales scales = new Network.Scales(SsmHparams.orOne(md.getFloat(MetaKey.EMBEDDING_SCALE.key(arch), 0f)),
                SsmHparams.orOne(md.getFloat(MetaKey.LOGIT_SCALE.key(arch), 0f)));
        boolean useRope = md.getBool(MetaKey.ROPE_SCALING_FINETUNED.key(arch), true);
        Mamba2Config ssm = SsmHparams.mamba2(md, arch, hp.dim(), hp.eps());
        MoeConfig moe = nExpert > 0
                ? MoeConfig.of(md.getInt(MetaKey.EXPERT_USED_COUNT.key(arch)), Gating.SOFTMAX, FfnActivation.SWIGLU)
                        .withRenormalize().withWeightScale(SsmHparams.expertWeightsScale(md, arch))
                : null;
        BlockBinder b = hp.binder(source, ctx);
        LayerBinder m = new LayerBinder(b);
        List<DecoderLayer> layers = new ArrayList<>(hp.nLayers());
        for (int l = 0; l < hp.nLayers(); l++) {
            boolean recurrent = sizes.nHeadKv()[l] == 0;
            Block mixer;
            if (recurrent) {
                mixer = m.mamba2(l, ssm, LayerBinder.Presence.REQUIRED);
            } else {
                AttentionConfig ac = sizes.attention(md, hp, l);
                if (attnScale != 0f) {
                    ac = ac.withScale(attnScale);
                }
                if (useRope) {
                    ac = ac.withRope(rope(md, arch, ac.headDim()));
                }
                mixer = b.attention(l, ac, BlockBinder.QkNorm.NONE, BlockBinder.OutBias.OPTIONAL);
            }
            Block ffn = moe != null
                    ? b.moe(l, nExpert, new BlockBinder.MoeLayout(sizes.nFf()[l], moe, sharedFf > 0
                            ? BlockBinder.SharedExpert.UNGATED : BlockBinder.SharedExpert.NONE, sharedFf))
                    : b.denseFfn(l, sizes.nFf()[l], FfnActivation.SWIGLU);
            LayerKind kind = new LayerKind(recurrent ? LayerKind.Mixer.MAMBA2 : LayerKind.Mixer.ATTENTION,
                    moe != null ? LayerKind.Ffn.MOE : LayerKind.Ffn.DENSE);
            layers.add(new DecoderLayer(kind, b.rms(TensorName.ATTN_NORM.weight(l)), mixer,
                    b.rms(TensorName.FFN_NORM.weight(l)), ffn, residualScale));
        }
        return b.finish(arch, b.head(BlockBinder.Output.TIED_WHEN_ABSENT, scales), layers);
    }

    /** RoPE NORMAL with {@code rope.freq_base} (default 10000) over {@code rope.dimension_count}. */
    private static Rope rope(Metadata md, String arch, int headDim) {
        int nRot = md.getInt(MetaKey.ROPE_DIMENSION_COUNT.key(arch), headDim);
        return Rope.of(Rope.Layout.NORMAL, headDim, nRot, md.getFloat(MetaKey.ROPE_FREQ_BASE.key(arch), 10000f), 1f);
    }
}
