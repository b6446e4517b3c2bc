package dev.taipan.runtime.arch.ssm;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.ModelFormatException;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.arch.Norm;
import dev.taipan.runtime.arch.TensorName;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.ssm.mamba1.Mamba1Config;
import dev.taipan.ssm.mamba1.Mamba1Mixer;
import dev.taipan.ssm.mamba1.Mamba1Weights;
import dev.taipan.ssm.mamba2.Mamba2Config;
import dev.taipan.ssm.mamba2.Mamba2Mixer;
import dev.taipan.ssm.mamba2.Mamba2Weights;
import dev.taipan.tensor.Tensor;

/**
 * Reads the SSM hyper-parameters from GGUF metadata and binds the Mamba-1 / Mamba-2 mixer
 * weights of one layer by their llama.cpp names and shapes, as the {@code load_arch_hparams} /
 * {@code load_arch_tensors} of the mamba, mamba2, jamba, granitehybrid, nemotron_h and falcon-h1
 * models do (src/models/*.cpp, llama.cpp 34af94cd). Shapes are in ggml order.
 */
final class SsmBindings {

    private SsmBindings() {
    }

    /** A required integer key of this architecture. */
    static int intKey(Metadata md, MetaKey key, String arch) {
        return md.getInt(key.key(arch));
    }

    /** The model's RMS norm epsilon ({@code attention.layer_norm_rms_epsilon}, required). */
    static float rmsEps(Metadata md, String arch) {
        return md.getFloat(MetaKey.ATTENTION_LAYERNORM_RMS_EPS.key(arch));
    }

    /** Mamba-2 sizes: {@code ssm.inner_size, state_size, time_step_rank (heads), group_count, conv_kernel}. */
    static Mamba2Config mamba2Config(Metadata md, String arch, int dim, float eps) {
        try {
            return new Mamba2Config(dim, intKey(md, MetaKey.SSM_INNER_SIZE, arch),
                    intKey(md, MetaKey.SSM_STATE_SIZE, arch), intKey(md, MetaKey.SSM_TIME_STEP_RANK, arch),
                    intKey(md, MetaKey.SSM_GROUP_COUNT, arch), intKey(md, MetaKey.SSM_CONV_KERNEL, arch), eps);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(md.origin() + ": inconsistent ssm.* metadata: " + e.getMessage(), e);
        }
    }

    /** Mamba-1 sizes: {@code ssm.inner_size, state_size, time_step_rank (dt rank), conv_kernel}. */
    static Mamba1Config mamba1Config(Metadata md, String arch, int dim, float eps) {
        try {
            return new Mamba1Config(dim, intKey(md, MetaKey.SSM_INNER_SIZE, arch),
                    intKey(md, MetaKey.SSM_STATE_SIZE, arch), intKey(md, MetaKey.SSM_TIME_STEP_RANK, arch),
                    intKey(md, MetaKey.SSM_CONV_KERNEL, arch), eps);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(md.origin() + ": inconsistent ssm.* metadata: " + e.getMessage(), e);
        }
    }

    /**
     * The Mamba-2 mixer of layer {@code l} (build_mamba2_layer). The conv bias is optional as in
     * granitehybrid/nemotron_h/falcon-h1; {@code normRequired} says whether {@code ssm_norm} is.
     */
    static Mamba2Mixer mamba2(Weights w, int l, Mamba2Config c, boolean normRequired, BuildContext ctx) {
        Tensor in = w.get(TensorName.SSM_IN.weight(l), c.dim(), c.inProjDim());
        float[] conv = Weights.toFloats(w.get(TensorName.SSM_CONV1D.weight(l), c.dConv(), c.convDim()));
        float[] convBias = w.optionalVector(TensorName.SSM_CONV1D.bias(l), c.convDim());
        float[] dtBias = w.vector(TensorName.SSM_DT.bias(l), c.nHeads());
        float[] a = Weights.toFloats(w.get(TensorName.SSM_A.plain(l), 1, c.nHeads()));
        float[] d = Weights.toFloats(w.get(TensorName.SSM_D.plain(l), 1, c.nHeads()));
        long groupSize = c.dInner() / c.nGroups();
        String normName = TensorName.SSM_NORM.weight(l);
        float[] norm = normRequired
                ? Weights.toFloats(w.get(normName, groupSize, c.nGroups()))
                : w.find(normName, groupSize, c.nGroups()).map(Weights::toFloats).orElse(null);
        Tensor out = w.get(TensorName.SSM_OUT.weight(l), c.dInner(), c.dim());
        return wrap(w, () -> new Mamba2Mixer(c, new Mamba2Weights(in, conv, convBias, dtBias, a, d, norm, out),
                ctx.kernels(), ctx.parallel()));
    }

    /**
     * The Mamba-1 mixer of layer {@code l} (build_mamba_layer). The dt/B/C RMS norms are used when
     * all three tensors are present (Jamba), or without weights when {@code dtBcRms} is set
     * (FalconMamba's {@code ssm.dt_b_c_rms}).
     */
    static Mamba1Mixer mamba1(Weights w, int l, Mamba1Config c, boolean dtBcRms, BuildContext ctx) {
        Tensor in = w.get(TensorName.SSM_IN.weight(l), c.dim(), 2L * c.dInner());
        float[] conv = Weights.toFloats(w.get(TensorName.SSM_CONV1D.weight(l), c.dConv(), c.dInner()));
        float[] convBias = w.vector(TensorName.SSM_CONV1D.bias(l), c.dInner());
        Tensor xProj = w.get(TensorName.SSM_X.weight(l), c.dInner(), c.xProjDim());
        Tensor dtProj = w.get(TensorName.SSM_DT.weight(l), c.dtRank(), c.dInner());
        float[] dtBias = w.vector(TensorName.SSM_DT.bias(l), c.dInner());
        float[] a = Weights.toFloats(w.get(TensorName.SSM_A.plain(l), c.dState(), c.dInner()));
        float[] d = w.vector(TensorName.SSM_D.plain(l), c.dInner());
        float[] dtNorm = w.optionalVector(TensorName.SSM_DT_NORM.weight(l), c.dtRank());
        float[] bNorm = w.optionalVector(TensorName.SSM_B_NORM.weight(l), c.dState());
        float[] cNorm = w.optionalVector(TensorName.SSM_C_NORM.weight(l), c.dState());
        Tensor out = w.get(TensorName.SSM_OUT.weight(l), c.dInner(), c.dim());
        Mamba1Weights.Norms norms;
        if (dtNorm != null && bNorm != null && cNorm != null) {
            norms = new Mamba1Weights.Norms(dtNorm, bNorm, cNorm);
        } else if (dtBcRms) {
            norms = Mamba1Weights.Norms.UNWEIGHTED;
        } else {
            norms = null;
        }
        return wrap(w, () -> new Mamba1Mixer(c, new Mamba1Weights(in, conv, convBias, xProj, dtProj, dtBias, a, d,
                norms, out), ctx.kernels(), ctx.parallel()));
    }

    /** An RMS norm over {@code dim} from tensor {@code name}. */
    static Norm rms(Weights w, String name, int dim, float eps) {
        return Norm.rms(w.vector(name, dim), eps);
    }

    /**
     * Embeddings, output norm and lm head; {@code output.weight} is optional and falls back to the
     * embeddings (tied), as every SSM family's load_arch_tensors does.
     */
    static Network.Head head(Weights w, int dim, float eps, Network.Scales scales) {
        Tensor embd = w.source().find(TensorName.TOKEN_EMBD.weight()).orElseThrow(() ->
                new ModelFormatException(w.source().path() + ": missing tensor '" + TensorName.TOKEN_EMBD.weight() + "'"));
        long vocab = embd.rows();
        embd = w.get(TensorName.TOKEN_EMBD.weight(), dim, vocab);
        Tensor output = w.find(TensorName.OUTPUT.weight(), dim, vocab).orElse(embd);
        return new Network.Head(embd, rms(w, TensorName.OUTPUT_NORM.weight(), dim, eps), output, scales);
    }

    /** Turns a block constructor's shape complaint into a load error naming the file. */
    static <T> T wrap(Weights w, java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(w.source().path() + ": " + e.getMessage(), e);
        }
    }
}
