package dev.taipan.runtime;

/**
 * How a model is loaded and run.
 *
 * @param threads       worker threads (the caller counts as one); default: available cores
 * @param contextLength tokens a session can hold; 0 = the model's trained context, capped at
 *                      {@link #DEFAULT_CONTEXT_CAP}
 * @param maxBatch      most tokens per forward pass during prefill
 * @param kernels       which kernel implementation runs the model
 * @param offload       how many layers run on an OpenCL device, and which device
 * @param weights       whether Q8_0/Q4_0 matrices are repacked for decode (default) or used as mapped
 */
public record LoadOptions(int threads, int contextLength, int maxBatch, KernelChoice kernels, Offload offload,
        WeightLayout weights) {

    /** Context used when the caller does not ask for one and the model trained on more. */
    public static final int DEFAULT_CONTEXT_CAP = 4096;

    /** Vector API kernels (the default), or their scalar twins (tests, debugging). */
    public enum KernelChoice { VECTOR, SCALAR }

    /**
     * How Q8_0 and Q4_0 matrices are held. {@code REPACKED} (the default, like llama.cpp's CPU
     * repack buffers): a copy in groups of 32 rows (with AVX-512) made at load
     * ({@code dev.taipan.quant.RepackedTensor}), which one-token decode reads two to five times as
     * fast, with the activations rounded to int8 per block of 32 (fp16 scale) as llama.cpp's CPU
     * backend does, so that Q8_0 decode gives llama.cpp's own Q8_0 logits; it costs off-heap memory
     * the size of those matrices, and prefill still reads the mapped file (f32 activations).
     * {@code MAPPED}: only the memory-mapped file (llama.cpp's {@code --no-repack}), f32
     * activations in decode too.
     */
    public enum WeightLayout { REPACKED, MAPPED }

    /**
     * Accelerator offload, like llama.cpp's {@code -ngl}: the weights of layers {@code blk.0 ..
     * blk.(gpuLayers-1)} are uploaded to OpenCL device {@code device} and their matvec/matmul run
     * there; more layers than the model has also offloads {@code output.weight}.
     *
     * @param gpuLayers layers to offload; 0 = pure CPU
     * @param device    index in {@code taipan info --devices}; -1 = the first GPU, else the first device
     */
    public record Offload(int gpuLayers, int device) {
        /** Everything on the CPU. */
        public static final Offload NONE = new Offload(0, -1);

        public Offload {
            if (gpuLayers < 0 || device < -1) {
                throw new IllegalArgumentException("gpuLayers must be >= 0 and device >= -1, got "
                        + gpuLayers + " and " + device);
            }
        }
    }

    /** Options without offload (every layer on the CPU). */
    public LoadOptions(int threads, int contextLength, int maxBatch, KernelChoice kernels) {
        this(threads, contextLength, maxBatch, kernels, Offload.NONE, WeightLayout.REPACKED);
    }

    public LoadOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (contextLength < 0 || maxBatch < 1) {
            throw new IllegalArgumentException("contextLength must be >= 0 and maxBatch >= 1");
        }
        if (offload == null) {
            throw new IllegalArgumentException("offload must not be null (use Offload.NONE)");
        }
        if (weights == null) {
            throw new IllegalArgumentException("weights must not be null (use WeightLayout.REPACKED)");
        }
    }

    public static LoadOptions defaults() {
        return new LoadOptions(Runtime.getRuntime().availableProcessors(), 0, 64, KernelChoice.VECTOR);
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(n, contextLength, maxBatch, kernels, offload, weights);
    }

    public LoadOptions withContextLength(int n) {
        return new LoadOptions(threads, n, maxBatch, kernels, offload, weights);
    }

    public LoadOptions withMaxBatch(int n) {
        return new LoadOptions(threads, contextLength, n, kernels, offload, weights);
    }

    public LoadOptions withKernels(KernelChoice k) {
        return new LoadOptions(threads, contextLength, maxBatch, k, offload, weights);
    }

    /** Offloads the first {@code n} layers to the OpenCL device chosen by {@link #withDevice} (0 = none). */
    public LoadOptions withGpuLayers(int n) {
        return new LoadOptions(threads, contextLength, maxBatch, kernels, new Offload(n, offload.device()), weights);
    }

    /** The OpenCL device for offloaded layers, by index ({@code taipan info --devices}); -1 = auto. */
    public LoadOptions withDevice(int index) {
        return new LoadOptions(threads, contextLength, maxBatch, kernels, new Offload(offload.gpuLayers(), index), weights);
    }

    /** Repacked Q8_0/Q4_0 matrices (default) or the mapped file only. */
    public LoadOptions withWeights(WeightLayout layout) {
        return new LoadOptions(threads, contextLength, maxBatch, kernels, offload, layout);
    }
}
