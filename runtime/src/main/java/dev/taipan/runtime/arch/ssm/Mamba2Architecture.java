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
import dev.taipan.runtime.arch.Weights;
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
        String arch = md.getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
        int dim = SsmBindings.intKey(md, MetaKey.EMBEDDING_LENGTH, arch);
        int nLayers = SsmBindings.intKey(md, MetaKey.BLOCK_COUNT, arch);
        float eps = SsmBindings.rmsEps(md, arch);
        Mamba2Config c = SsmBindings.mamba2Config(md, arch, dim, eps);
        Weights w = new Weights(source);
        LayerKind kind = new LayerKind(LayerKind.Mixer.MAMBA2, LayerKind.Ffn.NONE);
        List<DecoderLayer> layers = new ArrayList<>(nLayers);
        for (int l = 0; l < nLayers; l++) {
            layers.add(new DecoderLayer(kind, SsmBindings.rms(w, TensorName.ATTN_NORM.weight(l), dim, eps),
                    SsmBindings.mamba2(w, l, c, true, ctx), null, null, 1f));
        }
        Network.Head head = SsmBindings.head(w, dim, eps, Network.Scales.NONE);
        w.checkAllUsed();
        return new Network(arch, head, layers, ctx);
    }
}
