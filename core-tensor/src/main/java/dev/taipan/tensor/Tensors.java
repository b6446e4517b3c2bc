package dev.taipan.tensor;

/**
 * Shared plumbing of the {@link Tensor} entry points: argument checks with the tensor's name, and
 * the blocked batched matvec that {@link Tensor#matmul} uses by default.
 */
public final class Tensors {
    /** Weight bytes of one row tile of {@link #matmulBlocked}: kept in L2 while every token uses it. */
    private static final long TILE_BYTES = 256 * 1024;
    private static final int MAX_TILE_ROWS = 64;

    private Tensors() {
    }

    /**
     * Checks that {@code x} holds {@code nTokens} rows of {@code w.cols()} values and {@code out}
     * room for {@code nTokens} rows of {@code w.rows()} values.
     *
     * @throws IllegalArgumentException naming the tensor and the sizes when they do not
     */
    public static void checkMatvec(Tensor w, float[] out, float[] x, int nTokens) {
        long need = (long) nTokens * w.cols();
        long outNeed = (long) nTokens * w.rows();
        if (nTokens < 0 || x.length < need || out.length < outNeed) {
            throw new IllegalArgumentException("tensor '" + w.name() + "' " + w.shape() + ": " + nTokens
                    + " token(s) need x of >= " + need + " floats and out of >= " + outNeed + ", got "
                    + x.length + " and " + out.length);
        }
    }

    /**
     * Slice {@code slice} of {@code slices} ({@link Parallel#sliceStart}) of {@code w}'s rows dotted
     * with {@code x[0 ..]} into the same rows of {@code out}; nothing for an empty slice. A thread's
     * share of a one-token pass that gives each thread one slice of every matrix.
     */
    public static void dotSlice(Tensor w, int slice, int slices, float[] x, float[] out) {
        int rows = Math.toIntExact(w.rows());
        int from = Parallel.sliceStart(rows, slice, slices);
        int to = Parallel.sliceStart(rows, slice + 1, slices);
        if (from < to) {
            w.dotRows(from, to - from, x, 0, out, from);
        }
    }

    /** Rows per tile of {@link #matmulBlocked}: about {@value #TILE_BYTES} bytes of weights, 1 to 64 rows. */
    public static int tileRows(Tensor w) {
        return (int) Math.max(1, Math.min(MAX_TILE_ROWS, TILE_BYTES / Math.max(1, w.rowBytes())));
    }

    /**
     * {@code out[t * rows + r] = w.dot(r, x, t * cols)} for every token t and row r. Rows are cut
     * into tiles of about {@value #TILE_BYTES} bytes; each tile is streamed from memory once and
     * reused from cache by every token; tiles are split across {@code par}'s workers. Every output
     * is one {@code dot} call, so the result does not depend on the thread count.
     */
    public static void matmulBlocked(Tensor w, float[] out, float[] x, int nTokens, Parallel par) {
        int n = Math.toIntExact(w.rows());
        int c = w.cols();
        int tile = tileRows(w);
        int nTiles = (n + tile - 1) / tile;
        par.forRange(nTiles, (start, end) -> {
            for (int k = start; k < end; k++) {
                int r0 = k * tile;
                int r1 = Math.min(n, r0 + tile);
                for (int t = 0; t < nTokens; t++) {
                    int xOff = t * c;
                    int outOff = t * n;
                    for (int r = r0; r < r1; r++) {
                        out[outOff + r] = w.dot(r, x, xOff);
                    }
                }
            }
        });
    }
}
