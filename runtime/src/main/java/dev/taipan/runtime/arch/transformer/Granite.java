package dev.taipan.runtime.arch.transformer;

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
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.tensor.Block;
import dev.taipan.tensor.Rope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code granite} and {@code granitemoe}: IBM Granite 3.x dense and MoE (also Granite MoE Shared).
 * llama.cpp 34af94cd src/models/granite.cpp: a llama layer stack with four scales: embeddings times
 * {@code embedding_scale}, each block output times {@code residual_scale} before its residual add,
 * logits divided by {@code logit_scale}, and attention scores times {@code attention.scale} (each
 * 0 or absent = not applied, except logit_scale which is required). RoPE NORMAL, unless
 * {@code rope.scaling.finetuned} is false, which Granite uses to switch RoPE off. MoE layers
 * (expert_count > 0): softmax routing, top-k renormalised, experts of width
 * {@code feed_forward_length}, and an ungated shared expert when
 * {@code expert_shared_feed_forward_length > 0}.
 */
public final class Granite implements Architecture {

    /**
     * @param hp             the generic hyper-parameters
     * @param embeddingScale factor on the embeddings [f_embedding_scale], 1 when absent
     * @param residualScale  factor on block outputs [f_residual_scale], 1 when absent
     * @param logitDivisor   logits are divided by it [f_logit_scale]
     * @param attentionScale factor on q·k [f_attention_scale], default 1/sqrt(head_dim)
     * @param rope           whether RoPE is applied [rope_finetuned, default true]
     * @param sharedFf       shared expert width [n_ff_shexp], 0 = none
     */
    public record Config(TransformerHparams hp, float embeddingScale, float residualScale, float logitDivisor,
                         float attentionScale, boolean rope, int sharedFf) {

        public static Config read(Metadata md, String arch) {
            TransformerHparams hp = TransformerHparams.read(md, arch);
            float logit = md.getFloat(MetaKey.LOGIT_SCALE.key(arch));
            if (!(logit != 0f) || !Float.isFinite(logit)) {
                throw TransformerHparams.bad(md.origin(), MetaKey.LOGIT_SCALE.key(arch), "logit scale " + logit);
            }
            float attn = md.getFloat(MetaKey.ATTENTION_SCALE.key(arch), 0f);
            if (!(attn >= 0f) || !Float.isFinite(attn)) {
                throw TransformerHparams.bad(md.origin(), MetaKey.ATTENTION_SCALE.key(arch), "attention scale " + attn);
            }
            return new Config(hp,
                    orOne(md.getFloat(MetaKey.EMBEDDING_SCALE.key(arch), 0f)),
                    orOne(md.getFloat(MetaKey.RESIDUAL_SCALE.key(arch), 0f)),
                    logit,
                    attn == 0f ? AttentionConfig.defaultScale(hp.headDim()) : attn,
                    md.getBool(MetaKey.ROPE_SCALING_FINETUNED.key(arch), true),
                    TransformerHparams.optionalInt(md, MetaKey.EXPERT_SHARED_FEED_FORWARD_LENGTH, arch, 0));
        }

        // llama.cpp treats 0 (the default when the key is absent) as "no scaling"
        private static float orOne(float v) {
            return v == 0f ? 1f : v;
        }
    }

    @Override
    public Set<String> names() {
        return Set.of("granite", "granitemoe");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        String arch = source.metadata().getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
        Config c = Config.read(source.metadata(), arch);
        TransformerHparams hp = c.hp();
        TransformerBinder b = new TransformerBinder(new Weights(source), hp, ctx);
        Network.Head head = b.blocks().head(BlockBinder.Output.TIED_WHEN_ABSENT,
                new Network.Scales(c.embeddingScale(), c.logitDivisor()));
        Rope rope = c.rope() ? b.ropeWithFactors(Rope.Layout.NORMAL) : null;
        BlockBinder.SharedExpert shared = c.sharedFf() > 0
                ? BlockBinder.SharedExpert.UNGATED : BlockBinder.SharedExpert.NONE;
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < hp.nLayers(); l++) {
            AttentionConfig attn = hp.attention(l).withRope(rope).withScale(c.attentionScale());
            Block ffn = hp.nExperts() == 0
                    ? b.denseFfn(l, hp.nFf()[l])
                    : b.moe(l, new BlockBinder.MoeLayout(hp.nFf()[l], routing(hp), shared, c.sharedFf()));
            layers.add(b.layer(l, b.blocks().attention(l, attn, BlockBinder.QkNorm.NONE, BlockBinder.OutBias.OPTIONAL),
                    ffn, c.residualScale()));
        }
        return b.finish(head, layers);
    }

    // softmax over the experts, top-k renormalised (build_moe_ffn with norm_w = true)
    private static MoeConfig routing(TransformerHparams hp) {
        return MoeConfig.of(hp.nExpertsUsed(), Gating.SOFTMAX, FfnActivation.SWIGLU)
                .withRenormalize().withWeightScale(hp.expertWeightsScale());
    }
}
