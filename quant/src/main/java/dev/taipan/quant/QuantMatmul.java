package dev.taipan.quant;

import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.TileMatmul;

/**
 * Prefill of a quantized matrix: the rows are cut into tiles of about {@value #TILE_FLOATS} floats,
 * each tile is dequantized once into a per-thread buffer (exactly, as {@code dequantize_row_*}) and
 * multiplied by every token of the batch with {@link TileMatmul}. ggml's CPU backend splits the
 * work the same way in spirit (convert once per batch, then a dense kernel); where ggml quantizes
 * the activations to Q8 and uses integer dots, we keep them in float, so each output is the float
 * dot product of the exact dequantized row with the token, summed in a different order than
 * {@link QuantizedTensor#dot} (the tests bound the difference).
 *
 * <p>Per token and weight this costs one FMA lane instead of the fused dequant-dot's unpacking and
 * conversion, so it pays from two tokens on for the formats with a vectorized
 * {@link QuantizedTensor#dequantizeRows} and from {@value #MIN_TOKENS_SCALAR_DEQUANT} tokens on for
 * the others.
 */
final class QuantMatmul {

    /** Floats of one dequantized tile: 256 KiB, so that it stays in L2 while every token uses it. */
    static final int TILE_FLOATS = 64 * 1024;
    /** Batch size from which formats with a scalar dequantization take this path. */
    static final int MIN_TOKENS_SCALAR_DEQUANT = 8;

    private static final ThreadLocal<float[][]> BUFFER = ThreadLocal.withInitial(() -> new float[1][0]);

    private QuantMatmul() {
    }

    /** Rows per tile for rows of {@code cols} values: a multiple of 4 (the kernel's row block), 4 to 64. */
    static int tileRows(int cols) {
        int rows = TILE_FLOATS / Math.max(1, cols);
        return Math.max(4, Math.min(64, rows / 4 * 4));
    }

    /** {@code out[t * rows + r] = row r . x[t * cols ..]}, see the class comment; sizes already checked. */
    static void multiply(QuantizedTensor w, float[] out, float[] x, int nTokens, Parallel par) {
        int n = Math.toIntExact(w.rows());
        int cols = w.cols();
        int tile = tileRows(cols);
        int nTiles = (n + tile - 1) / tile;
        par.forRange(nTiles, (start, end) -> {
            float[] buf = buffer(tile * cols);
            for (int k = start; k < end; k++) {
                int r0 = k * tile;
                int rows = Math.min(n, r0 + tile) - r0;
                w.dequantizeRows(r0, rows, buf);
                TileMatmul.multiply(out, buf, x, new TileMatmul.Dims(rows, cols, nTokens, n, r0));
            }
        });
    }

    // this thread's tile buffer, grown to at least n floats
    private static float[] buffer(int n) {
        float[][] holder = BUFFER.get();
        if (holder[0].length < n) {
            holder[0] = new float[n];
        }
        return holder[0];
    }
}
