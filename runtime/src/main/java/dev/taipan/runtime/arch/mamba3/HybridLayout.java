package dev.taipan.runtime.arch.mamba3;

import dev.taipan.loaders.HfConfig;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.TensorName;
import java.util.List;
import java.util.Map;

/**
 * The non-Mamba parts of a safetensors Mamba-3 hybrid, laid out as mamba_ssm's {@code MixerModel}
 * (mamba_ssm/models/mixer_seq_simple.py, modules/block.py, mha.py, mlp.py at e9594ce1): layers
 * listed in {@code attn_layer_idx} hold an {@code MHA} mixer configured by {@code attn_cfg}, and
 * with {@code d_intermediate > 0} every layer has a {@code norm2} and a {@code GatedMLP}.
 * <ul>
 * <li>{@code mixer.in_proj} of an attention layer is the fused {@code [q | k | v]} projection
 *     (rows {@code H_q·d, H_kv·d, H_kv·d}), with a bias unless {@code qkv_proj_bias} is false;
 *     it becomes three row slices {@code attn_q/attn_k/attn_v}. {@code mixer.out_proj} becomes
 *     {@code attn_output}. RoPE: {@code rotary_emb_dim} dims, half-split (flash-attn, not
 *     interleaved), base {@code rotary_emb_base}.</li>
 * <li>{@code mlp.fc1} is {@code [y | gate]} and the MLP is {@code fc2(y * silu(gate))}: rows
 *     {@code [0, d)} become {@code ffn_up}, rows {@code [d, 2d)} {@code ffn_gate}, fc2
 *     {@code ffn_down}, norm2 {@code ffn_norm}.</li>
 * </ul>
 * Not supported (rejected by key): attention with a convolution ({@code d_conv}) or an inner MLP
 * ({@code mlp_dim}), interleaved rotary, non-causal attention.
 *
 * @param attention     per layer: is it an attention layer
 * @param nHeads        query heads
 * @param nKvHeads      key/value heads
 * @param headDim       values per head
 * @param ropeDims      rotated dims per head (0 = none)
 * @param ropeBase      rotary base
 * @param dIntermediate GatedMLP width of every layer (0 = no MLP)
 */
record HybridLayout(boolean[] attention, int nHeads, int nKvHeads, int headDim, int ropeDims, float ropeBase,
                    int dIntermediate) {

    /** One GGUF tensor: rows {@code [from, from + count)} of a safetensors tensor, or all of it (count < 0). */
    record Slice(String source, long from, long count) {
        static Slice whole(String source) {
            return new Slice(source, 0, -1);
        }
    }

    static HybridLayout of(HfConfig c, int nLayers, long dim) {
        boolean[] attn = new boolean[nLayers];
        int[] idx = c.has("attn_layer_idx") ? c.getIntArray("attn_layer_idx") : new int[0];
        for (int l : idx) {
            if (l < 0 || l >= nLayers) {
                throw new ModelFormatException(c.origin() + ": attn_layer_idx holds " + l + ", outside [0, " + nLayers + ")");
            }
            attn[l] = true;
        }
        int dInt = c.getInt("d_intermediate", 0);
        if (idx.length == 0) {
            return new HybridLayout(attn, 0, 0, 0, 0, 10000f, dInt);
        }
        HfConfig a = c.getObject("attn_cfg").orElseThrow(() -> new ModelFormatException(c.origin()
                + ": attn_layer_idx is set but attn_cfg (num_heads, ...) is missing"));
        for (String key : List.of("d_conv", "mlp_dim")) {
            if (a.getInt(key, 0) != 0) {
                throw new ModelFormatException(a.origin() + ": '" + key + "' = " + a.getInt(key, 0) + " is not supported");
            }
        }
        if (a.getBool("rotary_emb_interleaved", false) || !a.getBool("causal", true)) {
            throw new ModelFormatException(a.origin() + ": interleaved rotary and non-causal attention are not supported");
        }
        int heads = a.getInt("num_heads");
        return new HybridLayout(attn, heads, a.getInt("num_heads_kv", heads),
                a.getInt("head_dim", (int) (dim / heads)), a.getInt("rotary_emb_dim", 0),
                a.getFloat("rotary_emb_base", 10000f), dInt);
    }

    /** The GGUF tensors behind safetensors tensor {@code rest} ({@code backbone.layers.l.<rest>}), or null. */
    Map<String, Slice> map(int l, String rest, String sourceName) {
        long q = (long) nHeads * headDim;
        long kv = (long) nKvHeads * headDim;
        if (attention[l]) {
            switch (rest) {
                case "mixer.in_proj.weight", "mixer.in_proj.bias" -> {
                    boolean w = rest.endsWith("weight");
                    return Map.of(
                            w ? TensorName.ATTN_Q.weight(l) : TensorName.ATTN_Q.bias(l), new Slice(sourceName, 0, q),
                            w ? TensorName.ATTN_K.weight(l) : TensorName.ATTN_K.bias(l), new Slice(sourceName, q, kv),
                            w ? TensorName.ATTN_V.weight(l) : TensorName.ATTN_V.bias(l), new Slice(sourceName, q + kv, kv));
                }
                case "mixer.out_proj.weight" -> {
                    return Map.of(TensorName.ATTN_OUT.weight(l), Slice.whole(sourceName));
                }
                case "mixer.out_proj.bias" -> {
                    return Map.of(TensorName.ATTN_OUT.bias(l), Slice.whole(sourceName));
                }
                default -> {
                    // other names of an attention layer fall through to the unknown-name rule
                }
            }
        }
        return switch (rest) {
            case "norm2.weight" -> Map.of(TensorName.FFN_NORM.weight(l), Slice.whole(sourceName));
            case "mlp.fc1.weight" -> Map.of(
                    TensorName.FFN_UP.weight(l), new Slice(sourceName, 0, dIntermediate),
                    TensorName.FFN_GATE.weight(l), new Slice(sourceName, dIntermediate, dIntermediate));
            case "mlp.fc2.weight" -> Map.of(TensorName.FFN_DOWN.weight(l), Slice.whole(sourceName));
            default -> null;
        };
    }

    /** The hybrid's {@code mamba3.*} metadata (nothing for a pure Mamba-3 model). */
    void putMetadata(Map<String, Object> m, String arch) {
        int n = attention.length;
        if (nHeads > 0) {
            List<Long> kv = new java.util.ArrayList<>();
            for (boolean a : attention) {
                kv.add(a ? (long) nKvHeads : 0L);
            }
            m.put(MetaKey.ATTENTION_HEAD_COUNT.key(arch), (long) nHeads);
            m.put(MetaKey.ATTENTION_HEAD_COUNT_KV.key(arch), List.copyOf(kv));
            m.put(MetaKey.ATTENTION_KEY_LENGTH.key(arch), (long) headDim);
            m.put(MetaKey.ROPE_DIMENSION_COUNT.key(arch), (long) ropeDims);
            m.put(MetaKey.ROPE_FREQ_BASE.key(arch), ropeBase);
        }
        if (dIntermediate > 0) {
            m.put(MetaKey.FEED_FORWARD_LENGTH.key(arch), java.util.Collections.nCopies(n, (long) dIntermediate));
        }
    }
}
