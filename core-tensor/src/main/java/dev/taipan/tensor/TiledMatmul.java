package dev.taipan.tensor;

/**
 * Prefill of a matrix whose rows must be decoded to float (quantized blocks, F16, BF16): the rows are
 * cut into tiles of about {@value #TILE_FLOATS} floats, each tile is decoded once into a per-thread
 * buffer and multiplied by every token of the batch with {@link TileMatmul} (the batch is
 * transposed once per call). ggml's CPU backend
 * splits the work the same way in spirit (convert once per batch, then a dense kernel); where ggml
 * quantizes the activations to Q8 for integer dots, the activations stay float here, so each output
 * is the float dot product of the exactly decoded row with the token, summed in another order than
 * the type's fused {@code dot} (the tests bound the difference). Per token and weight this costs one
 * FMA lane instead of the fused dot's unpacking and conversion.
 */
public final class TiledMatmul {

    /** Floats of one decoded tile: 256 KiB, so that it stays in L2 while every token uses it. */
    static final int TILE_FLOATS = 64 * 1024;

    private static final ThreadLocal<float[][]> BUFFER = ThreadLocal.withInitial(() -> new float[1][0]);
    /** The calling thread's buffer for the transposed batch (read by every worker during a call). */
    private static final ThreadLocal<float[][]> TOKENS = ThreadLocal.withInitial(() -> new float[1][0]);

    /** Decodes rows {@code [first, first + count)} to {@code dst} (row-major, from index 0), exactly. */
    @FunctionalInterface
    public interface RowDecoder {
        void decode(long first, int count, float[] dst);
    }

    private TiledMatmul() {
    }

    /** Rows per tile for rows of {@code cols} values: a multiple of 4 (the kernel's row block), 4 to 64. */
    public static int tileRows(int cols) {
        int rows = TILE_FLOATS / Math.max(1, cols);
        return Math.max(4, Math.min(64, rows / 4 * 4));
    }

    /**
     * {@code out[t * rows + r] = row r . x[t * cols ..]} for every row of {@code w} and token, rows
     * decoded by {@code decoder}, tiles split across {@code par}'s workers (each output is computed
     * by the same code whatever the thread count).
     */
    public static void multiply(Tensor w, RowDecoder decoder, float[] out, float[] x, int nTokens, Parallel par) {
        Tensors.checkMatvec(w, out, x, nTokens);
        int n = Math.toIntExact(w.rows());
        int cols = w.cols();
        int tile = tileRows(cols);
        int nTiles = (n + tile - 1) / tile;
        float[][] holder = TOKENS.get();
        TileMatmul.Tokens tokens = TileMatmul.Tokens.of(x, nTokens, cols, holder[0]);
        holder[0] = tokens.xT();
        par.forRange(nTiles, (start, end) -> {
            float[] buf = buffer(tile * cols);
            for (int k = start; k < end; k++) {
                int r0 = k * tile;
                int rows = Math.min(n, r0 + tile) - r0;
                decoder.decode(r0, rows, buf);
                TileMatmul.multiply(out, buf, tokens, new TileMatmul.Dims(rows, cols, nTokens, n, r0));
            }
        });
    }

    /** Decodes with {@link Tensor#row}, one row at a time. */
    public static RowDecoder byRows(Tensor w) {
        int cols = w.cols();
        return (first, count, dst) -> {
            for (int i = 0; i < count; i++) {
                w.row(first + i, dst, i * cols);
            }
        };
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
