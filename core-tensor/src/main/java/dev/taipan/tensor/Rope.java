package dev.taipan.tensor;

/**
 * Rotary position embedding parameters, in the two layouts llama.cpp uses: {@link Layout#NORMAL}
 * rotates adjacent pairs (x[2i], x[2i+1]); {@link Layout#NEOX} rotates halves (x[i], x[i + nRot/2]).
 * Only the first {@code nRot} values of each head are rotated; the rest are left as they are.
 *
 * <p>The angle of pair i at position p is {@code freqScale * p * base^(-2i/nRot) / ff[i]} (linear
 * scaling: freqScale = 1 / scale; {@code ff} the optional per-pair frequency factors of Llama 3.1+
 * files, tensor {@code rope_freqs.weight}, 1 when absent). {@link #angles} computes it exactly as
 * ggml's {@code ggml_rope_cache_init} (ggml-cpu/ops.cpp, llama.cpp 34af94cd) does: {@code theta_0 = p},
 * {@code theta_{i+1} = theta_i * base^(-2/nRot)} in float, then {@code cos(freqScale * (theta_i /
 * ff[i]))}, so that long positions round like llama.cpp. YaRN extrapolation is not implemented.
 * {@link #invFreq} holds {@code base^(-2i/nRot)} for callers that need the frequencies themselves.
 *
 * @param freqFactors per-pair divisors of the angle ({@code nRot / 2} positive finite values), or
 *                    null for none
 */
public record Rope(Layout layout, int headDim, int nRot, float base, float freqScale, float[] invFreq,
        float[] freqFactors) {

    public enum Layout { NORMAL, NEOX }

    public Rope {
        if (nRot <= 0 || nRot > headDim || nRot % 2 != 0) {
            throw new IllegalArgumentException("rope: rotary dims " + nRot + " must be even and in (0, " + headDim + "]");
        }
        if (freqFactors != null) {
            if (freqFactors.length != nRot / 2) {
                throw new IllegalArgumentException("rope: " + freqFactors.length + " frequency factors for "
                        + nRot / 2 + " rotary pairs");
            }
            for (int i = 0; i < freqFactors.length; i++) {
                if (!(freqFactors[i] > 0f) || Float.isInfinite(freqFactors[i])) {
                    throw new IllegalArgumentException("rope: frequency factor " + i + " is " + freqFactors[i]
                            + "; factors must be positive and finite");
                }
            }
        }
    }

    public static Rope of(Layout layout, int headDim, int nRot, float base, float freqScale) {
        float[] inv = new float[nRot / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) Math.pow(base, -2.0 * i / nRot);
        }
        return new Rope(layout, headDim, nRot, base, freqScale, inv, null);
    }

    /** This rope with per-pair frequency factors ({@code nRot / 2} values, copied). */
    public Rope withFreqFactors(float[] factors) {
        return new Rope(layout, headDim, nRot, base, freqScale, invFreq, factors.clone());
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
            float angle = freqScale * (freqFactors == null ? theta : theta / freqFactors[i]);
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
            theta *= thetaScale;
        }
    }
}
