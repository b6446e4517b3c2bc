package dev.taipan.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Large F32 matrix products {@code C = A · Bᵀ} (row-major; B holds one output column per row, as a
 * weight matrix does), through OpenBLAS's {@code cblas_sgemm} when it loads, else in pure Java.
 *
 * <p>The native library comes from {@code org.bytedeco:openblas} (linux-x86_64): javacpp's
 * {@link Loader} extracts and loads it, and {@code cblas_sgemm} is then called through a critical
 * FFM downcall, so heap {@code float[]} and mmap'd weights are passed without copies. When the
 * library cannot load (another OS, no natives on the class path, {@code -Dtaipan.blas=false}), one
 * log line says so and every product uses {@link #multiplyTransposedJava}. OpenBLAS rounds in its
 * own order: its results are close to, not bit-identical with, the Java path.
 */
public final class Gemm {
    /** Sizes of {@code C(m×n) = A(m×k) · B(n×k)ᵀ}. */
    public record Dims(int m, int n, int k) {
        public Dims {
            if (m < 0 || n < 0 || k < 0) {
                throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
            }
        }
    }

    private static final System.Logger LOG = System.getLogger(Gemm.class.getName());
    private static final int CBLAS_ROW_MAJOR = 101;
    private static final int CBLAS_NO_TRANS = 111;
    private static final int CBLAS_TRANS = 112;
    /** Smallest batch and matrix worth a native call (below it, copying-free Java is as fast). */
    private static final int MIN_TOKENS = 16;
    private static final long MIN_WEIGHTS = 1L << 16;
    /** Rows of {@code B} per OpenBLAS call of {@link #matmulWeights}. */
    private static final int ROW_BLOCK = 64;

    private static final MethodHandle SGEMM = loadNative();

    private Gemm() {
    }

    // cblas_sgemm, with OpenBLAS set to one thread (the pool's threads make the calls), or null
    private static MethodHandle loadNative() {
        if (!Boolean.parseBoolean(System.getProperty("taipan.blas", "true"))) {
            LOG.log(System.Logger.Level.INFO, "OpenBLAS disabled by -Dtaipan.blas=false: F32 GEMM uses the pure-Java path");
            return null;
        }
        try {
            Path jni = Path.of(Loader.load(openblas_nolapack.class));
            Path lib = jni.resolveSibling("libopenblas.so.0");
            SymbolLookup lookup = Files.exists(lib)
                    ? SymbolLookup.libraryLookup(lib, Arena.global())
                    : SymbolLookup.libraryLookup(jni, Arena.global());
            Linker linker = Linker.nativeLinker();
            ValueLayout i32 = ValueLayout.JAVA_INT;
            ValueLayout f32 = ValueLayout.JAVA_FLOAT;
            ValueLayout ptr = ValueLayout.ADDRESS;
            FunctionDescriptor sgemm = FunctionDescriptor.ofVoid(i32, i32, i32, i32, i32, i32, f32, ptr, i32, ptr, i32,
                    f32, ptr, i32);
            MethodHandle gemm = linker.downcallHandle(lookup.findOrThrow("cblas_sgemm"), sgemm,
                    Linker.Option.critical(true));
            var setThreads = lookup.find("openblas_set_num_threads");
            if (setThreads.isPresent()) {
                linker.downcallHandle(setThreads.get(), FunctionDescriptor.ofVoid(i32)).invokeExact(1);
            }
            return gemm;
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "OpenBLAS could not be loaded (" + t
                    + "): F32 GEMM uses the pure-Java path");
            return null;
        }
    }

    /** Whether OpenBLAS is loaded. */
    public static boolean nativeAvailable() {
        return SGEMM != null;
    }

    /** Whether a batch of {@code nTokens} against a {@code rows × cols} matrix is worth a native call. */
    static boolean worthIt(int nTokens, long rows, int cols) {
        return nTokens >= MIN_TOKENS && rows * cols >= MIN_WEIGHTS;
    }

    /**
     * {@code c[i*n + j] = sum_p a[i*k + p] * b[j*k + p]}: OpenBLAS when loaded, else
     * {@link #multiplyTransposedJava}.
     */
    public static void multiplyTransposed(float[] c, float[] a, float[] b, Dims d) {
        check(c.length, a.length, (long) b.length * 4, d);
        if (SGEMM != null) {
            multiplyTransposedNative(MemorySegment.ofArray(c), MemorySegment.ofArray(a), MemorySegment.ofArray(b),
                    new Strided(d, d.n()));
        } else {
            multiplyTransposedJava(c, a, b, d);
        }
    }

    /** The pure-Java path of {@link #multiplyTransposed}: one vector dot per output. */
    public static void multiplyTransposedJava(float[] c, float[] a, float[] b, Dims d) {
        check(c.length, a.length, (long) b.length * 4, d);
        Kernels k = Kernels.vector();
        for (int i = 0; i < d.m(); i++) {
            for (int j = 0; j < d.n(); j++) {
                c[i * d.n() + j] = k.dot(a, i * d.k(), b, j * d.k(), d.k());
            }
        }
    }

    /**
     * {@code out[t * rows + r] = x[t] · row r of w} with OpenBLAS; the F32 weights are read in place
     * (heap or native segment). The rows are cut into blocks of {@value #ROW_BLOCK} that
     * {@code par}'s threads multiply with single-threaded OpenBLAS calls: OpenBLAS's own threads
     * spin after each call and, beside the pool's, would take the cores the next kernels need.
     *
     * @throws IllegalStateException when OpenBLAS is not loaded
     */
    public static void matmulWeights(float[] out, float[] x, int nTokens, F32Tensor w, Parallel par) {
        int rows = Math.toIntExact(w.rows());
        int k = w.cols();
        Dims d = new Dims(nTokens, rows, k);
        check(out.length, x.length, w.data().byteSize(), d);
        MemorySegment c = MemorySegment.ofArray(out);
        MemorySegment a = MemorySegment.ofArray(x);
        MemorySegment b = w.data();
        int blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        par.forRange(blocks, (start, end) -> {
            int r0 = start * ROW_BLOCK;
            int r1 = Math.min(rows, end * ROW_BLOCK);
            multiplyTransposedNative(c.asSlice(4L * r0), a, b.asSlice(4L * r0 * k, 4L * (r1 - r0) * k),
                    new Strided(new Dims(nTokens, r1 - r0, k), rows));
        });
    }

    /** A product whose {@code C} rows are {@code ldc} apart (a column block of a wider C). */
    private record Strided(Dims d, int ldc) {
    }

    private static void multiplyTransposedNative(MemorySegment c, MemorySegment a, MemorySegment b, Strided s) {
        Dims d = s.d();
        if (SGEMM == null) {
            throw new IllegalStateException("OpenBLAS is not loaded");
        }
        if (d.m() == 0 || d.n() == 0) {
            return;
        }
        try {
            SGEMM.invokeExact(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, d.m(), d.n(), d.k(), 1f, a,
                    Math.max(1, d.k()), b, Math.max(1, d.k()), 0f, c, Math.max(1, s.ldc()));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    private static void check(long cLen, long aLen, long bBytes, Dims d) {
        if (cLen < (long) d.m() * d.n() || aLen < (long) d.m() * d.k() || bBytes < 4L * d.n() * d.k()) {
            throw new IllegalArgumentException("gemm " + d + ": arrays too small (c " + cLen + ", a " + aLen
                    + " floats, b " + bBytes + " bytes)");
        }
    }
}
