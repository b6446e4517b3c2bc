package dev.taipan.examples.cli;

import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.runtime.GenerationStats;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code taipan generate}: tokenizes the prompt (BOS as the vocabulary says), prefills it in
 * batches, then samples up to n tokens one at a time ({@link Session#generate}), streaming their
 * text (or, with {@code --ids}, their ids) to stdout. Stops early at an end-of-generation token.
 * Timings go to stderr. Sampling defaults are llama.cpp's (common/common.h): temperature 0.8, top-k 40,
 * top-p 0.95, min-p 0.05, no repetition penalty.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt.")
final class GenerateCommand implements Callable<Integer> {

    /** Most prompt tokens per forward pass. */
    private static final int BATCH = 64;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions model;

    @Option(names = {"-p", "--prompt"}, required = true, paramLabel = "TEXT", description = "The prompt.")
    private String prompt;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", paramLabel = "N",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    private int nPredict;

    @Option(names = "--temp", defaultValue = "0.8", paramLabel = "T",
            description = "Temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    private double temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K",
            description = "Keep the K most likely tokens; 0 = off (default: ${DEFAULT-VALUE}).")
    private int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P",
            description = "Nucleus sampling; 1 = off (default: ${DEFAULT-VALUE}).")
    private double topP;

    @Option(names = "--min-p", defaultValue = "0.05", paramLabel = "P",
            description = "Drop tokens below P times the best one's probability; 0 = off (default: ${DEFAULT-VALUE}).")
    private double minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", paramLabel = "R",
            description = "Penalty on the last 64 tokens; 1 = off (default: ${DEFAULT-VALUE}).")
    private double repeatPenalty;

    @Option(names = "--seed", paramLabel = "S", description = "Random seed (default: a fresh one per run).")
    private Long seed;

    @Option(names = "--ids", description = "Print the generated token ids, space separated, instead of text.")
    private boolean printIds;

    @Option(names = {"-c", "--ctx"}, defaultValue = "0", paramLabel = "N",
            description = "Context length; 0 = the model's, at most 4096 (default: ${DEFAULT-VALUE}).")
    private int contextLength;

    @Override
    public Integer call() {
        if (nPredict < 0 || contextLength < 0) {
            throw new ParameterException(spec.commandLine(), "-n and --ctx must be >= 0");
        }
        Sampling sampling = sampling();
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.load(contextLength, BATCH)) {
            Tokenizer tok = m.tokenizer().orElseThrow(() ->
                    new IllegalArgumentException(m.source().path().getFileName() + " has no tokenizer"));
            Session session = m.newSession(sampling);
            GenerationStats stats;
            if (printIds) {
                int[] promptIds = tok.encode(prompt);
                int[] count = {0};
                stats = session.generateTokens(promptIds, nPredict, id -> {
                    out.print(count[0]++ == 0 ? Integer.toString(id) : " " + id);
                    out.flush();
                });
            } else {
                stats = session.generate(prompt, nPredict, piece -> {
                    out.print(piece);
                    out.flush();
                });
            }
            out.println();
            out.flush();
            spec.commandLine().getErr().println(String.format(Locale.ROOT,
                    "prompt: %d tokens in %.3f s (%.2f tok/s); generated: %d tokens in %.3f s (%.2f tok/s);"
                            + " stop: %s; threads %d",
                    stats.promptTokens(), stats.promptNanos() / 1e9, stats.promptTokensPerSecond(),
                    stats.generatedTokens(), stats.decodeNanos() / 1e9, stats.decodeTokensPerSecond(),
                    stats.stop().name().toLowerCase(Locale.ROOT), model.threads()));
        }
        return 0;
    }

    private Sampling sampling() {
        try {
            Sampling s = Sampling.temperature(temperature).topK(topK).topP(topP).minP(minP)
                    .repetitionPenalty(repeatPenalty);
            return seed == null ? s : s.seed(seed);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
