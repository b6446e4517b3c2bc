package dev.taipan.runtime.arch.transformer;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
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
 * {@code qwen3moe}: Qwen3 MoE (30B-A3B, 235B-A22B). llama.cpp 34af94cd src/models/qwen3moe.cpp:
 * per-head q/k RMS norms, RoPE NEOX, every layer MoE with softmax routing, top-k renormalised
 * ({@code norm_w = true}), SwiGLU experts, no shared expert; output tied when absent.
 */
public final class Qwen3Moe implements Architecture {

    /**
     * @param hp       the generic hyper-parameters
     * @param expertFf expert width: {@code expert_feed_forward_length}, else
     *                 {@code feed_forward_length / expert_used_count} [n_ff_exp]
     */
    public record Config(TransformerHparams hp, int expertFf) {
        public static Config read(Metadata md) {
            TransformerHparams hp = TransformerHparams.read(md, "qwen3moe");
            requireExperts(hp);
            int ff = TransformerHparams.optionalInt(md, MetaKey.EXPERT_FEED_FORWARD_LENGTH, "qwen3moe", 0);
            return new Config(hp, ff != 0 ? ff : hp.nFf()[0] / hp.nExpertsUsed());
        }
    }

    @Override
    public Set<String> names() {
        return Set.of("qwen3moe");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Config c = Config.read(source.metadata());
        TransformerHparams hp = c.hp();
        TransformerBinder b = new TransformerBinder(new Weights(source), hp, ctx);
        Network.Head head = b.blocks().head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE);
        Rope rope = hp.rope(Rope.Layout.NEOX);
        MoeConfig routing = MoeConfig.of(hp.nExpertsUsed(), Gating.SOFTMAX, FfnActivation.SWIGLU)
                .withRenormalize().withWeightScale(hp.expertWeightsScale());
        BlockBinder.MoeLayout moe = new BlockBinder.MoeLayout(c.expertFf(), routing,
                BlockBinder.SharedExpert.NONE, 0);
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < hp.nLayers(); l++) {
            layers.add(b.layer(l,
                    b.blocks().attention(l, hp.attention(l).withRope(rope), BlockBinder.QkNorm.PER_HEAD,
                            BlockBinder.OutBias.NONE),
                    b.moe(l, moe), 1f));
        }
        return b.finish(head, layers);
    }

    /** llama.cpp: "n_expert must be > 0" for the MoE-only families. */
    static void requireExperts(TransformerHparams hp) {
        if (hp.nExperts() < 1) {
            throw new ModelFormatException(hp.origin() + ": metadata key '"
                    + MetaKey.EXPERT_COUNT.key(hp.arch()) + "' is missing or 0; " + hp.arch() + " needs experts");
        }
    }
}
