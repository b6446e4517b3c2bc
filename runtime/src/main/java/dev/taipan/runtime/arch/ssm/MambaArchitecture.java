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
import dev.taipan.ssm.mamba1.Mamba1Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code mamba}: Mamba-1 language models (and FalconMamba), as llama.cpp's src/models/mamba.cpp
 * builds them (34af94cd): every layer is {@code x += mamba1(rmsnorm(x) * attn_norm)}, no FFN,
 * then the output RMS norm and the lm head (tied to the embeddings when {@code output.weight} is
 * absent). {@code ssm.dt_b_c_rms} (FalconMamba) turns on weightless RMS norms of dt, B and C.
 */
public final class MambaArchitecture implements Architecture {

    @Override
    public Set<String> names() {
        return Set.of("mamba");
    }

    @Override
    public Network build(TensorSource source, BuildContext ctx) {
        Metadata md = source.metadata();
        String arch = md.getString(MetaKey.GENERAL_ARCHITECTURE.key(""));
        int dim = SsmBindings.intKey(md, MetaKey.EMBEDDING_LENGTH, arch);
        int nLayers = SsmBindings.intKey(md, MetaKey.BLOCK_COUNT, arch);
        float eps = SsmBindings.rmsEps(md, arch);
        Mamba1Config c = SsmBindings.mamba1Config(md, arch, dim, eps);
        boolean dtBcRms = md.getBool(MetaKey.SSM_DT_B_C_RMS.key(arch), false);
        Weights w = new Weights(source);
        LayerKind kind = new LayerKind(LayerKind.Mixer.MAMBA1, LayerKind.Ffn.NONE);
        List<DecoderLayer> layers = new ArrayList<>(nLayers);
        for (int l = 0; l < nLayers; l++) {
            layers.add(new DecoderLayer(kind, SsmBindings.rms(w, TensorName.ATTN_NORM.weight(l), dim, eps),
                    SsmBindings.mamba1(w, l, c, dtBcRms, ctx), null, null, 1f));
        }
        Network.Head head = SsmBindings.head(w, dim, eps, Network.Scales.NONE);
        w.checkAllUsed();
        return new Network(arch, head, layers, ctx);
    }
}
