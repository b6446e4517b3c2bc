package dev.taipan.runtime.arch.ssm;

import dev.taipan.runtime.arch.BlockBinder;
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
 * Binds the Mamba-1 and Mamba-2 mixers of the SSM and hybrid families by their llama.cpp names,
 * with the ggml-order shapes of their {@code load_arch_tensors} (src/models/*.cpp, 34af94cd).
 * Attention, FFNs, norms and the head come from the shared {@link BlockBinder} this one wraps.
 */
final class LayerBinder {

    /** Whether a tensor must be in the file or may be absent. */
    enum Presence { REQUIRED, OPTIONAL }

    /** What Mamba-1 does when the dt/B/C norm tensors are absent: nothing, or weightless RMS norms. */
    enum DtBcRms { NONE, WEIGHTLESS }

    private final BlockBinder blocks;
    private final Weights weights;
    private final int dim;

    /** Binds mixers through {@code blocks}' tensors, width and build context. */
    LayerBinder(BlockBinder blocks) {
        this.blocks = blocks;
        this.weights = blocks.weights();
        this.dim = blocks.dim();
    }

    /** The Mamba-2 mixer of layer {@code l} (build_mamba2_layer); the conv bias is always optional. */
    Mamba2Mixer mamba2(int l, Mamba2Config c, Presence norm) {
        Tensor in = weights.get(TensorName.SSM_IN.weight(l), dim, c.inProjDim());
        float[] conv = Weights.toFloats(weights.get(TensorName.SSM_CONV1D.weight(l), c.dConv(), c.convDim()));
        float[] convBias = weights.optionalVector(TensorName.SSM_CONV1D.bias(l), c.convDim());
        float[] dtBias = weights.vector(TensorName.SSM_DT.bias(l), c.nHeads());
        float[] a = Weights.toFloats(weights.get(TensorName.SSM_A.plain(l), 1, c.nHeads()));
        float[] d = Weights.toFloats(weights.get(TensorName.SSM_D.plain(l), 1, c.nHeads()));
        long groupSize = c.dInner() / c.nGroups();
        String normName = TensorName.SSM_NORM.weight(l);
        float[] normWeight = norm == Presence.REQUIRED
                ? Weights.toFloats(weights.get(normName, groupSize, c.nGroups()))
                : weights.find(normName, groupSize, c.nGroups()).map(Weights::toFloats).orElse(null);
        Tensor out = weights.get(TensorName.SSM_OUT.weight(l), c.dInner(), dim);
        Mamba2Weights w = new Mamba2Weights(in, conv, convBias, dtBias, a, d, normWeight, out);
        return blocks.checked(() -> new Mamba2Mixer(c, w, blocks.context().kernels(), blocks.context().parallel()));
    }

    /**
     * The Mamba-1 mixer of layer {@code l} (build_mamba_layer). The dt/B/C RMS norms are used when
     * all three tensors are present (Jamba), else as {@code absent} says (FalconMamba's
     * {@code ssm.dt_b_c_rms}: weightless).
     */
    Mamba1Mixer mamba1(int l, Mamba1Config c, DtBcRms absent) {
        Tensor in = weights.get(TensorName.SSM_IN.weight(l), dim, 2L * c.dInner());
        float[] conv = Weights.toFloats(weights.get(TensorName.SSM_CONV1D.weight(l), c.dConv(), c.dInner()));
        float[] convBias = weights.vector(TensorName.SSM_CONV1D.bias(l), c.dInner());
        Tensor xProj = weights.get(TensorName.SSM_X.weight(l), c.dInner(), c.xProjDim());
        Tensor dtProj = weights.get(TensorName.SSM_DT.weight(l), c.dtRank(), c.dInner());
        float[] dtBias = weights.vector(TensorName.SSM_DT.bias(l), c.dInner());
        float[] a = Weights.toFloats(weights.get(TensorName.SSM_A.plain(l), c.dState(), c.dInner()));
        float[] d = weights.vector(TensorName.SSM_D.plain(l), c.dInner());
        float[] dtNorm = weights.optionalVector(TensorName.SSM_DT_NORM.weight(l), c.dtRank());
        float[] bNorm = weights.optionalVector(TensorName.SSM_B_NORM.weight(l), c.dState());
        float[] cNorm = weights.optionalVector(TensorName.SSM_C_NORM.weight(l), c.dState());
        Tensor out = weights.get(TensorName.SSM_OUT.weight(l), c.dInner(), dim);
        Mamba1Weights.Norms norms;
        if (dtNorm != null && bNorm != null && cNorm != null) {
            norms = new Mamba1Weights.Norms(dtNorm, bNorm, cNorm);
        } else {
            norms = absent == DtBcRms.WEIGHTLESS ? Mamba1Weights.Norms.UNWEIGHTED : null;
        }
        Mamba1Weights w = new Mamba1Weights(in, conv, convBias, xProj, dtProj, dtBias, a, d, norms, out);
        return blocks.checked(() -> new Mamba1Mixer(c, w, blocks.context().kernels(), blocks.context().parallel()));
    }
}
