package dev.taipan.examples.cli;

import dev.taipan.runtime.LoadOptions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where the weights live: {@code --gpu-layers N} and {@code --device I}, how many layers run on an
 * OpenCL device (like llama.cpp's {@code -ngl}) and which device ({@code taipan info --devices} lists
 * them); {@code --no-repack}, the Q8_0/Q4_0 matrices used as mapped instead of repacked for decode.
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

    @Option(names = {"-nr", "--no-repack"},
            description = "Use the memory-mapped Q8_0/Q4_0 matrices as they are, without the repacked copy"
                    + " made at load for decode (as llama.cpp's --no-repack): less memory, slower decode, and f32"
                    + " activations where the copy rounds them to int8 as llama.cpp does.")
    private boolean noRepack;

    /** {@code options} with this offload and weight layout. */
    public LoadOptions apply(LoadOptions options) {
        return options.withGpuLayers(gpuLayers).withDevice(device)
                .withWeights(noRepack ? LoadOptions.WeightLayout.MAPPED : LoadOptions.WeightLayout.REPACKED);
    }
}
