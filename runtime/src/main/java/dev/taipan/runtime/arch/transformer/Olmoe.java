package dev.taipan.runtime.arch.transformer;

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
import dev.taipan.tensor.Rope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code olmoe}: OLMoE. llama.cpp 34af94cd src/models/olmoe.cpp: RMS norms over the whole q and k
 * projections (attn_q_norm / attn_k_norm of n_embd values, before the head split), RoPE NEOX,
 * every layer MoE with softmax routing without renormalisation ({@code norm_w = false}), experts
 * of width {@code feed_forward_length}; output.weight required.
 */
public final class Olmoe implements Architecture {

    /**
     * @param hp       the generic hyper-parameters
     * @param expertFf expert width: {@code feed_forward_length} [n_ff]
     */
    public record Config(TransformerHparams hp, int expertFf) {
        public static Config read(Metadata md) {
            TransformerHparams hp = TransformerHparams.read(md, "olmoe");
            Qwen3Moe.requireExperts(hp);
            return new Config(hp, hp.uniform(hp.nFf(), MetaKey.FEED_FORWARD_LENGTH));
        }
    }

    @Override
    public Set<String> names() {
        return Set.of("olmoe");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Config c = Config.read(source.metadata());
        TransformerHparams hp = c.hp();
        TransformerBinder b = new TransformerBinder(new Weights(source), hp, ctx);
        Network.Head head = b.blocks().head(BlockBinder.Output.REQUIRED, Network.Scales.NONE);
        Rope rope = hp.rope(Rope.Layout.NEOX);
        MoeConfig routing = MoeConfig.of(hp.nExpertsUsed(), Gating.SOFTMAX, FfnActivation.SWIGLU)
                .withWeightScale(hp.expertWeightsScale());
        BlockBinder.MoeLayout moe = new BlockBinder.MoeLayout(c.expertFf(), routing,
                BlockBinder.SharedExpert.NONE, 0);
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < hp.nLayers(); l++) {
            layers.add(b.layer(l,
                    b.blocks().attention(l, hp.attention(l).withRope(rope), BlockBinder.QkNorm.WHOLE,
                            BlockBinder.OutBias.NONE),
                    b.moe(l, moe), 1f));
        }
        return b.finish(head, layers);
    }
}
