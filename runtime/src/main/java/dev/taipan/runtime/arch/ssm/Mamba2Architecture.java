package dev.taipan.runtime.arch.ssm;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BlockBinder;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
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
        SsmHparams.Base hp = SsmHparams.Base.read(md);
        String arch = hp.arch();
        Mamba2Config c = SsmHparams.mamba2(md, arch, hp.dim(), hp.eps());
        BlockBinder b = hp.binder(source, ctx);
        LayerBinder m = new LayerBinder(b);
        LayerKind kind = new LayerKind(LayerKind.Mixer.MAMBA2, LayerKind.Ffn.NONE);
        List<DecoderLayer> layers = new ArrayList<>(hp.nLayers());
        for (int l = 0; l < hp.nLayers(); l++) {
            layers.add(new DecoderLayer(kind, b.rms(TensorName.ATTN_NORM.weight(l)),
                    m.mamba2(l, c, LayerBinder.Presence.REQUIRED), null, null, 1f));
        }
        return b.finish(arch, b.head(BlockBinder.Output.TIED_WHEN_ABSENT, Network.Scales.NONE), layers);
    }
}
