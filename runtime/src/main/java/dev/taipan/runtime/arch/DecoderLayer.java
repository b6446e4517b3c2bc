package dev.taipan.runtime.arch;

import dev.taipan.tensor.Block;

/**
 * One layer of a decoder stack: {@code x += residualScale * mixer(mixerNorm(x))}, then, when the
 * layer has an FFN, {@code x += residualScale * ffn(ffnNorm(x))}. A layer whose {@code mixer} is
 * null is FFN-only (e.g. nemotron_h's MLP layers).
 *
 * @param kind          what the layer is, for listings ({@code info}) and statistics
 * @param mixerNorm     pre-mixer norm; null only when mixer is null
 * @param mixer         attention / SSM block, or null
 * @param ffnNorm       pre-FFN norm; null only when ffn is null
 * @param ffn           dense or MoE FFN block, or null
 * @param residualScale scale of each block output before it is added (1 for all but Granite)
 */
public record DecoderLayer(LayerKind kind, Norm mixerNorm, Block mixer, Norm ffnNorm, Block ffn, float residualScale) {
    public DecoderLayer {
        if ((mixer == null) != (mixerNorm == null) || (ffn == null) != (ffnNorm == null)) {
            throw new IllegalArgumentException("layer block and norm must be given together");
        }
        if (mixer == null && ffn == null) {
            throw new IllegalArgumentException("a layer needs a mixer or an FFN");
        }
    }
}
