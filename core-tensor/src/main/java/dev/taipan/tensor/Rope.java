package dev.taipan.tensor;

/**
 * Rotary position embedding parameters, in the two layouts llama.cpp uses: {@link Layout#NORMAL}
 * rotates adjacent pairs (x[2i], x[2i+1]); {@link Layout#NEOX} rotates halves (x[i], x[i + nRot/2]).
 * Only the first {@code nRot} values of each head are rotated; the rest are left as they are.
 *
 * <p>The angle of pair i at position p is {@code freqScale * p * base^(-2i/nRot)} (linear scaling:
 * freqScale = 1 / scale). {@link #angles} computes it exactly as ggml's {@code ggml_rope_cache_init}
 * (ggml-cpu/ops.cpp, llama.cpp 34af94cd) does: {@code theta_0 = p}, {@code theta_{i+1} = theta_i *
 * base^(-2/nRot)} in float, then {@code cos(freqScale * theta_i)}, so that long positions round like
 * llama.cpp. YaRN extrapolation and per-pair frequency factors are not implemented.
 * {@link #invFreq} holds {@code base^(-2i/nRot)} for callers that need the frequencies themselves.
 */
public record Rope(Layout layout, int headDim, int nRot, float base, float freqScale, float[] invFreq) {

    public enum Layout { NORMAL, NEOX }

    public Rope {
        if (nRot <= 0 || nRot > headDim || nRot % 2 != 0) {
            throw new IllegalArgumentException("rope: rotary dims " + nRot + " must be even and in (0, " + headDim + "]");
        }
    }

    public static Rope of(Layout layout, int headDim, int nRot, float base, float freqScale) {
        float[] inv = new float[nRot / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) Math.pow(base, -2.0 * i / nRot);
        }
        return new Rope(layout, headDim, nRot, base, freqScale, inv);
    }

    /** ggml's {@code theta_scale = powf(freq_base, -2.0f/n_dims)}. */
    public float thetaScale() {
        return (float) Math.pow(base, -2.0f / nRot);
    }

    /**
     * Writes {@code cos[i]} and {@code sin[i]} of the angle of every pair i in [0, nRot/2) at
     * position {@code pos} (the float recurrence of ggml, see the class comment).
     */
    public void angles(int pos, float[] cos, float[] sin) {
        float thetaScale = thetaScale();
        float theta = pos;
        for (int i = 0; i < nRot / 2; i++) {
            float angle = freqScale * theta;
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
            theta *= thetaScale;
        }
    }
}
