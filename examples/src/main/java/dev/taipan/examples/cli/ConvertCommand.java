package dev.taipan.examples.cli;

import dev.taipan.runtime.arch.mamba3.Mamba3GgufConverter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code taipan convert}: a Mamba-3 safetensors checkpoint directory (FLA Mamba3ForCausalLM layout,
 * config.json + model.safetensors) to a {@code mamba3} GGUF file, its matrices in F32, F16, Q8_0
 * or Q4_0 (names and keys: docs/mamba3-gguf.md), with the directory's tokenizer.json, when it has
 * one, as the file's tokenizer.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a Mamba-3 safetensors directory to a mamba3 GGUF file.")
final class ConvertCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "DIR",
            description = "Checkpoint directory with config.json and model.safetensors (and tokenizer.json,"
                    + " written into the file when present).")
    private Path from;

    @Option(names = "--to", required = true, paramLabel = "FILE.gguf", description = "GGUF file to write.")
    private Path to;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "F32",
            description = "Type of the matrices: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}); "
                    + "norms, biases and SSM parameters stay F32.")
    private Mamba3GgufConverter.Target type;

    @Override
    public Integer call() throws IOException {
        if (!Files.isDirectory(from)) {
            throw new ParameterException(spec.commandLine(), "--from: " + from + " is not a directory");
        }
        Mamba3GgufConverter.convert(from, to, type);
        PrintWriter out = spec.commandLine().getOut();
        out.println("wrote " + to + " (" + type + ", " + Files.size(to) + " bytes)");
        out.flush();
        return 0;
    }
}
