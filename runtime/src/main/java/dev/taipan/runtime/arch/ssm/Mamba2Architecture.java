package dev.taipan.runtime.arch.ssm;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.ssm.mamba2.Mamba2Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code mamba2}: Mamba-2 language models, as llama.cpp's src/models/mamba.cpp builds them
 * (34af94cd): every layer is {@code x += mamba2(rmsnorm(x) * attn_norm)}, no FFN, then the output
 * RMS norm and the lm head (tied to the embeddings when {@code output.weight} is absent).
 * {@code ssm_norm} (the grouped gated norm) is required, as in llama.cpp's load_arch_tensors.
 */
public final class Mamba2Architecture implements Architecture {

    @Override
    public Set<String> names() {
        return Set.of("mamba2");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Metadata md = source.metadata();
        String arch = SsmHparams.arch(md);
        int dim = SsmHparams.intKey(md, MetaKey.EMBEDDING_LENGTH, arch);
        int nLayers = SsmHparams.intKey(md, MetaKey.BLOCK_COUNT, arch);
        float eps = SsmHparams.rmsEps(md, arch);
        Mamba2Config c = SsmHparams.mamba2(md, arch, dim, eps);
        LayerBinder b = new LayerBinder(source, ctx, dim, eps);
        LayerKind kind = new LayerKind(LayerKind.Mixer.MAMBA2, LayerKind.Ffn.NONE);
        List<DecoderLayer> layers = new ArrayList<>(nLayers);
        for (int l = 0; l < nLayers; l++) {
            layers.add(new DecoderLayer(kind, b.rms(TensorName.ATTN_NORM.weight(l)),
                    b.mamba2(l, c, LayerBinder.Presence.REQUIRED), null, null, 1f));
        }
        return b.finish(arch, layers, Network.Scales.NONE);
    }
}
