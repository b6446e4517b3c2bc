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
        String arch = SsmHparams.arch(md);
        int dim = SsmHparams.intKey(md, MetaKey.EMBEDDING_LENGTH, arch);
        int nLayers = SsmHparams.intKey(md, MetaKey.BLOCK_COUNT, arch);
        float eps = SsmHparams.rmsEps(md, arch);
        Mamba1Config c = SsmHparams.mamba1(md, arch, dim, eps);
        LayerBinder.DtBcRms dtBcRms = md.getBool(MetaKey.SSM_DT_B_C_RMS.key(arch), false)
                ? LayerBinder.DtBcRms.WEIGHTLESS : LayerBinder.DtBcRms.NONE;
        LayerBinder b = new LayerBinder(source, ctx, dim, eps);
        LayerKind kind = new LayerKind(LayerKind.Mixer.MAMBA1, LayerKind.Ffn.NONE);
        List<DecoderLayer> layers = new ArrayList<>(nLayers);
        for (int l = 0; l < nLayers; l++) {
            layers.add(new DecoderLayer(kind, b.rms(TensorName.ATTN_NORM.weight(l)), b.mamba1(l, c, dtBcRms),
                    null, null, 1f));
        }
        return b.finish(arch, layers, Network.Scales.NONE);
    }
}
