package dev.taipan.runtime.arch.transformer;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BlockBinder;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.tensor.Rope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code qwen3}: Qwen3 dense models. llama.cpp 34af94cd src/models/qwen3.cpp: per-head RMS norms
 * of q and k (attn_q_norm / attn_k_norm, (head_dim)) before RoPE in the NEOX layout, dense SwiGLU
 * FFN, output tied to token_embd when absent.
 */
public final class Qwen3 implements Architecture {

    /** @param hp the generic hyper-parameters (every key qwen3 reads is generic) */
    public record Config(TransformerHparams hp) {
        public static Config read(Metadata md) {
            return new Config(TransformerHparams.read(md, "qwen3"));
        }
    }

    @Override
    public Set<String> names() {
        return Set.of("qwen3");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        TransformerHparams hp = Config.read(source.metadata()).hp();
        TransformerBinder b = new TransformerBinder(new Weights(source), hp, ctx);
        Network.Head head = b.blocks().head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE);
        Rope rope = hp.rope(Rope.Layout.NEOX);
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < hp.nLayers(); l++) {
            layers.add(b.layer(l,
                    b.blocks().attention(l, hp.attention(l).withRope(rope), BlockBinder.QkNorm.PER_HEAD,
                            BlockBinder.OutBias.NONE),
                    b.denseFfn(l, hp.nFf()[l]), 1f));
        }
        return b.finish(head, layers);
    }
}
