package dev.taipan.examples.cli;

import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Taipan;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The options every command that runs a model shares: which model, how many threads, what to offload. */
public final class ModelOptions {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    private Path model;

    private int threads = Runtime.getRuntime().availableProcessors();

    @Mixin
    private OffloadOptions offload;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH",
            description = "GGUF file, or a directory with config.json and safetensors files.")
    void setModel(Path path) {
        if (!Files.exists(path)) {
            throw new ParameterException(spec.commandLine(), "--model: " + path + " does not exist");
        }
        this.model = path;
    }

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "Worker threads (default: the available cores).")
    void setThreads(int n) {
        if (n < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be >= 1, got " + n);
        }
        this.threads = n;
    }

    public Path model() {
        return model;
    }

    public int threads() {
        return threads;
    }

    /** Loads the model with these threads and the given context length (0 = the model's, capped). */
    public Model load(int contextLength, int maxBatch) {
        return Taipan.load(model, offload.apply(LoadOptions.defaults().withThreads(threads)
                .withContextLength(contextLength).withMaxBatch(maxBatch)));
    }
}
