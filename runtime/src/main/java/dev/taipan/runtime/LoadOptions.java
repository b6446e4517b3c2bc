package dev.taipan.runtime;

/**
 * How a model is loaded and run.
 *
 * @param threads       worker threads (the caller counts as one); default: available cores
 * @param contextLength tokens a session can hold; 0 = the model's trained context, capped at
 *                      {@link #DEFAULT_CONTEXT_CAP}
 * @param maxBatch      most tokens per forward pass during prefill
 * @param kernels       which kernel implementation runs the model
 */
public record LoadOptions(int threads, int contextLength, int maxBatch, KernelChoice kernels) {

    /** Context used when the caller does not ask for one and the model trained on more. */
    public static final int DEFAULT_CONTEXT_CAP = 4096;

    /** Vector API kernels (the default), or their scalar twins (tests, debugging). */
    public enum KernelChoice { VECTOR, SCALAR }

    public LoadOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (contextLength < 0 || maxBatch < 1) {
            throw new IllegalArgumentException("contextLength must be >= 0 and maxBatch >= 1");
        }
    }

    public static LoadOptions defaults() {
        return new LoadOptions(Runtime.getRuntime().availableProcessors(), 0, 64, KernelChoice.VECTOR);
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(n, contextLength, maxBatch, kernels);
    }

    public LoadOptions withContextLength(int n) {
        return new LoadOptions(threads, n, maxBatch, kernels);
    }

    public LoadOptions withMaxBatch(int n) {
        return new LoadOptions(threads, contextLength, n, kernels);
    }

    public LoadOptions withKernels(KernelChoice k) {
        return new LoadOptions(threads, contextLength, maxBatch, k);
    }
}
