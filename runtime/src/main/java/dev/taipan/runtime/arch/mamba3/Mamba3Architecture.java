package dev.taipan.runtime.arch.mamba3;

import dev.taipan.attention.Attention;
import dev.taipan.attention.AttentionConfig;
import dev.taipan.loaders.HfConfig;
import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.moe.FfnActivation;
import dev.taipan.moe.Gating;
import dev.taipan.moe.MoeConfig;
import dev.taipan.moe.SparseMoe;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BlockBinder;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Norm;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.ssm.mamba3.Mamba3Config;
import dev.taipan.ssm.mamba3.Mamba3Mixer;
import dev.taipan.ssm.mamba3.Mamba3Weights;
import dev.taipan.tensor.Block;
import dev.taipan.tensor.Rope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mamba-3 language models and Mamba-3 hybrids, as mamba_ssm's {@code MixerModel} /
 * FLA's {@code Mamba3ForCausalLM} lay them out: embeddings, then per layer
 * {@code x += mixer(rmsnorm(x))} (and {@code x += ffn(rmsnorm(x))} where the layer has an FFN),
 * final RMS norm, lm head (tied to the embeddings when {@code output.weight} is absent).
 *
 * <p>Reads GGUF files of architecture {@code mamba3} (names and keys in docs/mamba3-gguf.md) and,
 * through {@link FlaMamba3Source}, safetensors directories in FLA's Mamba3ForCausalLM layout
 * (model_type {@code mamba3}; hybrids with attention and MLP layers in mamba_ssm's MixerModel
 * layout, {@link HybridLayout}). In a hybrid, layer l is self-attention where
 * {@code mamba3.attention.head_count_kv[l] > 0} (mamba_ssm's {@code attn_layer_idx}); its FFN,
 * if any, is a sparse MoE where the file holds the router {@code blk.l.ffn_gate_inp.weight},
 * else a dense SwiGLU.
 */
public final class Mamba3Architecture implements Architecture {
    /** The architecture name in GGUF files and in config.json's model_type. */
    public static final String NAME = "mamba3";
    private static final Pattern QUOTED = Pattern.compile("tensor '([^']+)'");

    @Override
    public Set<String> names() {
        return Set.of(NAME);
    }

    /**
     * Builds from a GGUF source, or from a safetensors directory in FLA layout (its config.json
     * gives the hyper-parameters).
     */
    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        if (source instanceof SafetensorsSource st) {
            HfConfig config = st.config().orElseThrow(() -> new ModelFormatException(st.path()
                    + ": a safetensors Mamba-3 checkpoint needs its " + SafetensorsSource.CONFIG_FILE));
            return buildFromSafetensors(st, config, ctx);
        }
        return buildGgufNamed(source, ctx);
    }

    /**
     * Builds from safetensors tensors in FLA layout and their config.json. Errors about a tensor
     * name it by its GGUF name and by its FLA name.
     */
    public Network buildFromSafetensors(TensorSource safetensors, HfConfig config, BuildContext ctx) {
        try {
            return buildGgufNamed(new FlaMamba3Source(safetensors, config), ctx);
        } catch (ModelFormatException e) {
            Matcher m = QUOTED.matcher(e.getMessage());
            if (m.find() && !FlaMamba3Source.flaName(m.group(1)).equals(m.group(1))) {
                throw new ModelFormatException(e.getMessage() + " (FLA name '" + FlaMamba3Source.flaName(m.group(1))
                        + "', config " + config.origin() + ")", e);
            }
            throw e;
        }
    }

    private static Network buildGgufNamed(TensorSource source, BuildContext ctx) {
        Metadata md = source.metadata();
        String arch = md.getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
        if (!arch.equals(NAME)) {
            throw new ModelFormatException(source.path() + ": architecture '" + arch + "' is not " + NAME);
        }
        Mamba3Hparams hp = Mamba3Hparams.read(md, arch);
        BlockBinder b = new BlockBinder(new Weights(source), ctx, hp.dim(), hp.rmsEps());
        List<DecoderLayer> layers = new ArrayList<>(hp.nLayers());
        for (int l = 0; l < hp.nLayers(); l++) {
            layers.add(layer(b, hp, l));
        }
        return b.finish(arch, b.head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE), layers);
    }

    private static DecoderLayer layer(BlockBinder b, Mamba3Hparams hp, int l) {
        Norm mixerNorm = b.rms(TensorName.ATTN_NORM, l);
        boolean attention = hp.attention().isAttention(l);
        Block mixer = attention ? attention(b, hp, l) : mixer(b.weights(), hp, l, b.context());
        LayerKind.Mixer mixerKind = attention ? LayerKind.Mixer.ATTENTION : LayerKind.Mixer.MAMBA3;
        int ff = hp.ffn().ffLength()[l];
        if (ff == 0) {
            return new DecoderLayer(new LayerKind(mixerKind, LayerKind.Ffn.NONE), mixerNorm, mixer, null, null, 1f);
        }
        Norm ffnNorm = b.rms(TensorName.FFN_NORM, l);
        boolean moe = b.source().find(TensorName.FFN_GATE_INP.weight(l)).isPresent();
        Block ffn = moe ? moe(b, hp, l) : b.denseFfn(l, ff, FfnActivation.SWIGLU);
        return new DecoderLayer(new LayerKind(mixerKind, moe ? LayerKind.Ffn.MOE : LayerKind.Ffn.DENSE),
                mixerNorm, mixer, ffnNorm, ffn, 1f);
    }

    /** The Mamba-3 mixer of layer l, shapes in ggml order (contiguous dimension first). */
    static Mamba3Mixer mixer(Weights w, Mamba3Hparams hp, int l, BuildContext ctx) {
        Mamba3Config c = hp.mixer();
        int h = c.nHeads();
        int r = c.mimoRank();
        int n = c.dState();
        int p = c.headDim();
        boolean mimo = c.variant() == Mamba3Config.Variant.MIMO;
        boolean outNorm = c.outputNorm() == Mamba3Config.OutputNorm.GROUPED_RMS;
        Mamba3Weights mw = new Mamba3Weights(
                w.get(TensorName.SSM_IN.weight(l), c.dModel(), c.dInProj()),
                w.vector(TensorName.SSM_DT.bias(l), h),
                w.vector(TensorName.SSM_B_NORM.weight(l), n),
                w.vector(TensorName.SSM_C_NORM.weight(l), n),
                Weights.toFloats(w.get(Mamba3Names.bBias(l), n, r, h)),
                Weights.toFloats(w.get(Mamba3Names.cBias(l), n, r, h)),
                w.vector(TensorName.SSM_D.plain(l), h),
                mimo ? Weights.toFloats(w.get(Mamba3Names.mimoX(l), p, r, h)) : null,
                mimo ? Weights.toFloats(w.get(Mamba3Names.mimoZ(l), p, r, h)) : null,
                mimo ? Weights.toFloats(w.get(Mamba3Names.mimoO(l), p, r, h)) : null,
                outNorm ? w.vector(TensorName.SSM_NORM.weight(l), c.dInner()) : null,
                w.get(TensorName.SSM_OUT.weight(l), c.dInner(), c.dModel()));
        try {
            return new Mamba3Mixer(c, mw, ctx.kernels(), ctx.parallel());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(hp.origin() + ": layer " + l + ": " + e.getMessage(), e);
        }
    }

    private static Attention attention(BlockBinder b, Mamba3Hparams hp, int l) {
        Mamba3Hparams.Attention a = hp.attention();
        AttentionConfig cfg = AttentionConfig.of(hp.dim(), a.nHeads(), a.headCountKv()[l], a.headDim());
        if (a.ropeDims() > 0) {
            cfg = cfg.withRope(Rope.of(Rope.Layout.NEOX, a.headDim(), a.ropeDims(), a.ropeBase(), 1f));
        }
        return b.attention(l, cfg, BlockBinder.QkNorm.NONE, BlockBinder.OutBias.OPTIONAL);
    }

    private static SparseMoe moe(BlockBinder b, Mamba3Hparams hp, int l) {
        Mamba3Hparams.Ffn f = hp.ffn();
        if (f.nExpert() < 1 || f.expertFf() < 1) {
            throw new ModelFormatException(hp.origin() + ": layer " + l + " has a router but '"
                    + MetaKey.EXPERT_COUNT.key(hp.arch()) + "' / '" + MetaKey.EXPERT_FEED_FORWARD_LENGTH.key(hp.arch())
                    + "' are missing or 0");
        }
        MoeConfig mc = MoeConfig.of(f.nExpertUsed(), Gating.SOFTMAX, FfnActivation.SWIGLU);
        return b.moe(l, f.nExpert(), new BlockBinder.MoeLayout(f.expertFf(),
                f.renormalize() ? mc.withRenormalize() : mc, BlockBinder.SharedExpert.NONE, 0));
    }
}
