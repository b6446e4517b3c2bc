package dev.taipan.runtime.arch.transformer;

import dev.taipan.attention.Attention;
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
 * {@code llama}: Llama 1/2/3 and Mistral (dense SwiGLU FFN), and Mixtral-style MoE when
 * {@code llama.expert_count > 0} (ffn_gate_inp router, softmax, top-k renormalised, SwiGLU experts
 * in ffn_*_exps). Follows llama.cpp 34af94cd src/models/llama.cpp: RoPE in the NORMAL layout
 * (adjacent pairs, {@code llama_model_rope_type}), scale {@code 1/sqrt(head_dim)}, optional q/k/v
 * and output biases, output tied to token_embd when absent.
 *
 * RoPE frequency factors ({@code rope_freqs.weight}, Llama 3.1+) divide the angles when present.
 *
 * <p>Not supported (load fails naming the tensor or key): LongRoPE/YaRN scaling, FFN biases,
 * fused attn_qkv.
 */
public final class Llama implements Architecture {

    /**
     * @param hp        the generic hyper-parameters
     * @param expertFf  hidden width of each expert (the dense {@code feed_forward_length}), MoE only
     */
    public record Config(TransformerHparams hp, int expertFf) {

        public static Config read(Metadata md) {
            TransformerHparams hp = TransformerHparams.read(md, "llama");
            return new Config(hp, hp.nExperts() > 0 ? hp.uniform(hp.nFf(), MetaKey.FEED_FORWARD_LENGTH) : 0);
        }

        public boolean moe() {
            return hp.nExperts() > 0;
        }
    }

    @Override
    public Set<String> names() {
        return Set.of("llama");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Config c = Config.read(source.metadata());
        TransformerHparams hp = c.hp();
        TransformerBinder b = new TransformerBinder(new Weights(source), hp, ctx);
        Network.Head head = b.blocks().head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE);
        Rope rope = b.ropeWithFactors(Rope.Layout.NORMAL);
        BlockBinder.MoeLayout moe = c.moe() ? new BlockBinder.MoeLayout(c.expertFf(),
                MoeConfig.of(hp.nExpertsUsed(), Gating.SOFTMAX, FfnActivation.SWIGLU)
                        .withRenormalize().withWeightScale(hp.expertWeightsScale()),
                BlockBinder.SharedExpert.NONE, 0) : null;
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < hp.nLayers(); l++) {
            Attention attn = b.blocks().attention(l, hp.attention(l).withRope(rope),
                    BlockBinder.QkNorm.NONE, BlockBinder.OutBias.OPTIONAL);
            Block ffn = c.moe() ? b.moe(l, moe) : b.denseFfn(l, hp.nFf()[l]);
            layers.add(b.layer(l, attn, ffn, 1f));
        }
        return b.finish(head, layers);
    }
}
