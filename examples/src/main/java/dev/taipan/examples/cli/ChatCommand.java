package dev.taipan.examples.cli;

import dev.taipan.examples.chat.BundledModel;
import dev.taipan.examples.chat.ChatRepl;
import dev.taipan.examples.chat.ChatSetup;
import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Sampling;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code taipan chat}: the chat REPL ({@link ChatRepl}) on a model, by default the bundled
 * stories260K. On a terminal it edits lines with JLine and keeps a history; with stdin from a pipe
 * or file it answers each line in turn, so it can be scripted. Sampling defaults are llama.cpp's.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model (default: the bundled stories260K, a tiny story model).",
            "Models with a chat template are formatted with it; others continue your text.",
            "Type /help in the chat for its commands."})
final class ChatCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "PATH",
            description = "GGUF file, or a directory with config.json and safetensors files (default: the bundled "
                    + "stories260K).")
    private Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Worker threads (default: the available cores).")
    private int threads = Runtime.getRuntime().availableProcessors();

    @Mixin
    private OffloadOptions offload;

    @Option(names = "--ctx", defaultValue = "0", paramLabel = "N",
            description = "Context length in tokens (default: the model's, at most "
                    + LoadOptions.DEFAULT_CONTEXT_CAP + ").")
    private int context;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256", paramLabel = "N",
            description = "Longest reply in tokens (default: ${DEFAULT-VALUE}).")
    private int maxTokens;

    @Option(names = "--temp", defaultValue = "0.8", paramLabel = "T",
            description = "Temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    private double temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K", description = "Top-k; 0 = off (default: ${DEFAULT-VALUE}).")
    private int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P", description = "Top-p; 1 = off (default: ${DEFAULT-VALUE}).")
    private double topP;

    @Option(names = "--min-p", defaultValue = "0.05", paramLabel = "P", description = "Min-p; 0 = off (default: ${DEFAULT-VALUE}).")
    private double minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", paramLabel = "R",
            description = "Penalty on the last 64 tokens; 1 = off (default: ${DEFAULT-VALUE}).")
    private double repeatPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: a fresh one).")
    private Long seed;

    @Option(names = "--system", paramLabel = "TEXT", description = "System message (models with a chat template).")
    private String system;

    @Option(names = "--plain", description = "Ignore the model's chat template: plain text completion.")
    private boolean plain;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        if (ChatSetup.interactive()) {
            return ChatSetup.runOnTerminal(setup(), err);
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        return chat(in, spec.commandLine().getOut(), err);
    }

    /** Runs the REPL over the lines of {@code in} (no terminal, no progress bars). */
    int chat(BufferedReader in, PrintWriter out, PrintWriter err) {
        return ChatSetup.runOnLines(setup(), in, out, err);
    }

    private ChatSetup setup() {
        if (model != null && !Files.exists(model)) {
            throw new ParameterException(spec.commandLine(), "--model: " + model + " does not exist");
        }
        if (maxTokens < 1 || context < 0 || threads < 1) {
            throw new ParameterException(spec.commandLine(), "--max-tokens and --threads must be >= 1, --ctx >= 0");
        }
        Sampling sampling;
        try {
            sampling = Sampling.temperature(temperature).topK(topK).topP(topP).minP(minP)
                    .repetitionPenalty(repeatPenalty);
            sampling = seed == null ? sampling : sampling.seed(seed);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        return new ChatSetup(model != null ? model : BundledModel.path(),
                offload.apply(LoadOptions.defaults().withThreads(threads).withContextLength(context)), sampling,
                new ChatSetup.Chat(maxTokens, system, plain));
    }
}
