package dev.taipan.tensor;

/**
 * Rotary position embedding parameters, in the two layouts llama.cpp uses: {@link Layout#NORMAL}
 * rotates adjacent pairs (x[2i], x[2i+1]); {@link Layout#NEOX} rotates halves (x[i], x[i + nRot/2]).
 * Only the first {@code nRot} values of each head are rotated. The angle for pair i at position p
 * is {@code (p * freqScale) * base^(-2i/nRot)} (linear scaling: freqScale = 1 / scale).
 * Per-pair inverse frequencies are precomputed here.
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
}
