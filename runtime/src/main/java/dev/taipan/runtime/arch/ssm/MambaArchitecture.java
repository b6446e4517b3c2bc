package dev.taipan.runtime.arch.ssm;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BlockBinder;
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
        SsmHparams.Base hp = SsmHparams.Base.read(md);
        String arch = hp.arch();
        Mamba1Config c = SsmHparams.mamba1(md, arch, hp.dim(), hp.eps());
        LayerBinder.DtBcRms dtBcRms = md.getBool(MetaKey.SSM_DT_B_C_RMS.key(arch), false)
                ? LayerBinder.DtBcRms.WEIGHTLESS : LayerBinder.DtBcRms.NONE;
        BlockBinder b = hp.binder(source, ctx);
        LayerBinder m = new LayerBinder(b);
        LayerKind kind = new LayerKind(LayerKind.Mixer.MAMBA1, LayerKind.Ffn.NONE);
        List<DecoderLayer> layers = new ArrayList<>(hp.nLayers());
        for (int l = 0; l < hp.nLayers(); l++) {
            layers.add(new DecoderLayer(kind, b.rms(TensorName.ATTN_NORM.weight(l)), m.mamba1(l, c, dtBcRms),
                    null, null, 1f));
        }
        return b.finish(arch, b.head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE), layers);
    }
}
