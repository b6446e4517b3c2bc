package dev.taipan.runtime.arch;

import dev.taipan.tensor.Kernels;

/**
 * A normalisation over the model dimension: RMSNorm ({@code bias == null}) or LayerNorm. The
 * weight and bias vectors are copied from the file at load (they are 1-D and tiny).
 */
public record Norm(Type type, float[] weight, float[] bias, float eps) {

    public enum Type { RMS, LAYER }

    public static Norm rms(float[] weight, float eps) {
        return new Norm(Type.RMS, weight, null, eps);
    }

    public static Norm layer(float[] weight, float[] bias, float eps) {
        return new Norm(Type.LAYER, weight, bias, eps);
    }

    /** Normalises {@code x[off .. off + weight.length)} in place. */
    public void apply(Kernels k, float[] x, int off) {
        switch (type) {
            case RMS -> k.rmsnorm(x, off, weight, eps);
            case LAYER -> k.layernorm(x, off, new Kernels.LayerNormParams(weight, bias, eps));
        }
    }

    public int size() {
        return weight.length;
    }
}
