package dev.taipan.runtime;

import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.safetensors.SafetensorsSource;
import dev.taipan.opencl.OpenClBackend;
import dev.taipan.opencl.OpenClDevices;
import dev.taipan.opencl.OpenClException;
import dev.taipan.tensor.Tensor;
import dev.taipan.tensor.backend.Backend;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tensor source an architecture binds from when layers are offloaded (llama.cpp's
 * {@code -ngl}): tensors named {@code blk.<i>.*} with {@code i < gpuLayers} (and
 * {@code output.weight} when every layer is offloaded and one more is asked for) come back placed
 * on the {@link Backend}; the layers' code is unchanged. Each tensor is placed once (the same
 * object on every lookup). Closing it closes the backend (freeing every device buffer) and then
 * the files.
 */
final class OffloadSource extends WrappingSource {
    private static final System.Logger LOG = System.getLogger(OffloadSource.class.getName());
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");
    private static final String OUTPUT = "output.weight";

    private final Backend backend;
    private final int gpuLayers;
    private final boolean offloadOutput;
    private final Map<String, Tensor> placed = new HashMap<>();

    private OffloadSource(TensorSource files, Backend backend, int gpuLayers, int nLayers) {
        super(files);
        this.backend = backend;
        this.gpuLayers = gpuLayers;
        this.offloadOutput = gpuLayers > nLayers;
    }

    /**
     * {@code files} itself when nothing is offloaded (no layers asked, safetensors, or no OpenCL
     * device: one log line says why), else the offloading view. On failure {@code files} is left open
     * for the caller to close.
     */
    static TensorSource wrap(TensorSource files, LoadOptions.Offload offload) {
        return wrap(files, offload, OpenClDevices::probe);
    }

    /** As {@link #wrap(TensorSource, LoadOptions.Offload)} with the device probe given (tests). */
    static TensorSource wrap(TensorSource files, LoadOptions.Offload offload, Supplier<OpenClDevices.Probe> devices) {
        int n = offload.gpuLayers();
        if (n == 0) {
            LOG.log(System.Logger.Level.DEBUG, "gpu layers 0: every layer runs on the CPU");
            return files;
        }
        if (files instanceof SafetensorsSource) {
            LOG.log(System.Logger.Level.WARNING, files.path() + ": offload applies to GGUF models; "
                    + "running every layer on the CPU");
            return files;
        }
        OpenClDevices.Probe probe = devices.get();
        if (!probe.available()) {
            LOG.log(System.Logger.Level.WARNING, "--gpu-layers " + n + " asked, but OpenCL is unavailable ("
                    + probe.reason() + "): every layer runs on the CPU");
            return files;
        }
        OpenClBackend backend = OpenClBackend.open(offload.device());
        int nLayers = layerCount(files.names());
        LOG.log(System.Logger.Level.INFO, String.format(Locale.ROOT, "offloading %d of %d layers%s to %s",
                Math.min(n, nLayers), nLayers, n > nLayers ? " and the output matrix" : "", backend.description()));
        return new OffloadSource(files, backend, n, nLayers);
    }

    /** Layers of a GGUF model: one more than the largest {@code blk.<i>} index. */
    static int layerCount(Set<String> names) {
        int max = -1;
        for (String name : names) {
            Matcher m = LAYER.matcher(name);
            if (m.find()) {
                max = Math.max(max, Integer.parseInt(m.group(1)));
            }
        }
        return max + 1;
    }

    /** Where the offloaded matrices run. */
    Backend backend() {
        return backend;
    }

    private boolean offloaded(String name) {
        Matcher m = LAYER.matcher(name);
        if (m.find()) {
            return Integer.parseInt(m.group(1)) < gpuLayers;
        }
        return offloadOutput && name.equals(OUTPUT);
    }

    @Override
    public synchronized Optional<Tensor> find(String name) {
        Optional<Tensor> host = files.find(name);
        if (host.isEmpty() || !offloaded(name)) {
            return host;
        }
        try {
            return Optional.of(placed.computeIfAbsent(name, k -> backend.place(host.get())));
        } catch (OpenClException e) {
            throw new OpenClException(files.path() + ": cannot offload tensor '" + name + "': " + e.getMessage(),
                    e.status());
        }
    }

    @Override
    void closeOwn() {
        backend.close();
    }
}
