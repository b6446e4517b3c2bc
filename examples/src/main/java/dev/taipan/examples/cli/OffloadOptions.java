package dev.taipan.examples.cli;

import dev.taipan.runtime.LoadOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --gpu-layers N} and {@code --device I}: how many layers run on an OpenCL device (like
 * llama.cpp's {@code -ngl}) and which device ({@code taipan info --devices} lists them).
 */
public final class OffloadOptions {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    private int gpuLayers;

    private int device = -1;

    @Option(names = {"-ngl", "--gpu-layers"}, paramLabel = "N",
            description = "Layers to run on the OpenCL device (default 0: all on the CPU; more than the"
                    + " model has also offloads the output matrix).")
    void setGpuLayers(int n) {
        if (n < 0) {
            throw new ParameterException(spec.commandLine(), "--gpu-layers must be >= 0, got " + n);
        }
        this.gpuLayers = n;
    }

    @Option(names = "--device", paramLabel = "I",
            description = "OpenCL device index from 'taipan info --devices' (default: the first GPU, else the"
                    + " first device).")
    void setDevice(int index) {
        if (index < 0) {
            throw new ParameterException(spec.commandLine(), "--device must be >= 0, got " + index);
        }
        this.device = index;
    }

    /** {@code options} with this offload. */
    public LoadOptions apply(LoadOptions options) {
        return options.withGpuLayers(gpuLayers).withDevice(device);
    }
}
