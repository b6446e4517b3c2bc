package dev.taipan.runtime;

import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.quant.RepackedTensor;
import dev.taipan.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The tensor source the architectures bind from when weights are repacked for decode
 * ({@link LoadOptions.WeightLayout#REPACKED}, llama.cpp's default "repack" buffers): every Q8_0 /
 * Q4_0 matrix that {@link RepackedTensor#supports} comes back as its repacked copy, made once on
 * first lookup into off-heap memory this source owns; other tensors (and {@code token_embd.weight},
 * only read a row at a time, unless the model ties it to the output) come back as mapped.
 * Closing it frees the copies, then closes the files.
 */
final class RepackSource extends WrappingSource {
    private static final String EMBEDDING = "token_embd.weight";
    private static final String OUTPUT = "output.weight";

    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> repacked = new HashMap<>();

    private RepackSource(TensorSource files) {
        super(files);
    }

    /** {@code files} itself for mapped weights or safetensors (no Q8_0/Q4_0 there), else the repacking view. */
    static TensorSource wrap(TensorSource files, LoadOptions.WeightLayout layout) {
        if (layout == LoadOptions.WeightLayout.MAPPED || files instanceof SafetensorsSource) {
            return files;
        }
        return new RepackSource(files);
    }

    @Override
    public synchronized Optional<Tensor> find(String name) {
        Optional<Tensor> t = files.find(name);
        if (t.isEmpty() || !repacks(files, name, t.get())) {
            return t;
        }
        return Optional.of(repacked.computeIfAbsent(name, k -> RepackedTensor.of(t.get(), arena)));
    }

    /** Whether a repacking view of {@code files} gives tensor {@code name} ({@code t}) as a repacked copy. */
    private static boolean repacks(TensorSource files, String name, Tensor t) {
        return RepackedTensor.supports(t) && !(name.equals(EMBEDDING) && files.names().contains(OUTPUT));
    }

    /**
     * Bytes of the copies that a {@link LoadOptions.WeightLayout#REPACKED} load of the files under
     * {@code source} makes (0 for safetensors), computed from the mapped tensors without copying.
     */
    static long copyBytes(TensorSource source) {
        TensorSource files = source;
        while (files instanceof WrappingSource w) {
            files = w.files;
        }
        if (files instanceof SafetensorsSource) {
            return 0;
        }
        long bytes = 0;
        for (String name : files.names()) {
            Tensor t = files.get(name);
            if (repacks(files, name, t)) {
                bytes += RepackedTensor.packedBytes(t);
            }
        }
        return bytes;
    }

    @Override
    void closeOwn() {
        repacked.clear();
        arena.close();
    }
}
