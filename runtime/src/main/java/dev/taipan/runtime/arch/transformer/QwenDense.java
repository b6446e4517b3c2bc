package dev.taipan.runtime.arch.transformer;

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
 * The dense Qwen families, which differ only in their q/k norms (llama.cpp 34af94cd):
 * <ul>
 *   <li>{@code qwen2} (Qwen1.5 / Qwen2 / Qwen2.5, src/models/qwen2.cpp): q/k/v biases (optional in
 *       {@code create_tensor_qkv}, present in Qwen2 files), no q/k norms;</li>
 *   <li>{@code qwen3} (src/models/qwen3.cpp): per-head RMS norms of q and k (attn_q_norm /
 *       attn_k_norm, (head_dim)) before RoPE.</li>
 * </ul>
 * Both: RoPE in the NEOX layout (halves), dense SwiGLU FFN, output tied to token_embd when absent.
 * Every key they read is generic ({@link TransformerHparams}).
 *
 * @param name   the {@code general.architecture} value
 * @param qkNorm the family's q/k norm
 */
public record QwenDense(String name, BlockBinder.QkNorm qkNorm) implements Architecture {

    /** {@code qwen2}: q/k/v biases, no q/k norms. */
    public static QwenDense qwen2() {
        return new QwenDense("qwen2", BlockBinder.QkNorm.NONE);
    }

    /** {@code qwen3}: per-head q/k norms. */
    public static QwenDense qwen3() {
        return new QwenDense("qwen3", BlockBinder.QkNorm.PER_HEAD);
    }

    @Override
    public Set<String> names() {
        return Set.of(name);
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        TransformerHparams hp = TransformerHparams.read(source.metadata(), name);
        TransformerBinder b = new TransformerBinder(new Weights(source), hp, ctx);
        Network.Head head = b.blocks().head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE);
        Rope rope = hp.rope(Rope.Layout.NEOX);
        List<DecoderLayer> layers = new ArrayList<>();
        for (int l = 0; l < hp.nLayers(); l++) {
            layers.add(b.layer(l,
                    b.blocks().attention(l, hp.attention(l).withRope(rope), qkNorm, BlockBinder.OutBias.NONE),
                    b.denseFfn(l, hp.nFf()[l]), 1f));
        }
        return b.finish(head, layers);
    }
}
