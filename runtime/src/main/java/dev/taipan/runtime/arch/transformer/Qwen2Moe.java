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
 * {@code qwen2moe}: Qwen1.5-MoE / Qwen2-MoE. llama.cpp 34af94cd src/models/qwen2moe.cpp: q/k/v
 * biases, RoPE NEOX, every layer MoE with softmax routing <b>without</b> top-k renormalisation
 * ({@code norm_w = false}), plus a shared SwiGLU expert whose output is scaled by
 * {@code sigmoid(ffn_gate_inp_shexp · x)}; output.weight required.
 */
public final class Qwen2Moe implements Architecture {

    /**
     * @param hp       the generic hyper-parameters
     * @param expertFf expert width: {@code expert_feed_forward_length}, else
     *                 {@code feed_forward_length / expert_used_count} [n_ff_exp]
     * @param sharedFf shared expert width: {@code expert_shared_feed_forward_length}, else
     *                 {@code feed_forward_length} [n_ff_shexp]
     */
    public record Config(TransformerHparams hp, int expertFf, int sharedFf) {
        public static Config read(Metadata md) {
            TransformerHparams hp = TransformerHparams.read(md, "qwen2moe");
            Qwen3Moe.requireExperts(hp);
            int ff = TransformerHparams.optionalInt(md, MetaKey.EXPERT_FEED_FORWARD_LENGTH, "qwen2moe", 0);
            int shared = TransformerHparams.optionalInt(md, MetaKey.EXPERT_SHARED_FEED_FORWARD_LENGTH, "qwen2moe", 0);
            return new Config(hp, ff != 0 ? ff : hp.nFf()[0] / hp.nExpertsUsed(), shared != 0 ? shared : hp.nFf()[0]);
        }
    }

    @Override
    public Set<String> names() {
        return Set.of("qwen2moe");
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
                BlockBinder.SharedExpert.SIGMOID_GATED, c.sharedFf());
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < hp.nLayers(); l++) {
            layers.add(b.layer(l,
                    b.blocks().attention(l, hp.attention(l).withRope(rope), BlockBinder.QkNorm.NONE,
                            BlockBinder.OutBias.NONE),
                    b.moe(l, moe), 1f));
        }
        return b.finish(head, layers);
    }
}
