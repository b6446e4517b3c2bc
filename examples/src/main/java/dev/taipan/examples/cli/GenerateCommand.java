package dev.taipan.examples.cli;

import dev.taipan.loaders.tokenizer.StreamingDecoder;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.sampling.Sampler;
import dev.taipan.runtime.sampling.TokenHistory;
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
 * batches, then samples up to n tokens one at a time, streaming their text (or, with
 * {@code --ids}, their ids) to stdout. Stops early at an end-of-generation token. Timings go to
 * stderr. Sampling defaults are llama.cpp's (common/common.h): temperature 0.8, top-k 40,
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

    @Override
    public Integer call() {
        if (nPredict < 0) {
            throw new ParameterException(spec.commandLine(), "-n must be >= 0, got " + nPredict);
        }
        Sampling sampling = sampling();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (CliModel m = CliModel.open(model)) {
            Tokenizer tok = m.tokenizer();
            int[] promptIds = tok.encode(prompt);
            if (promptIds.length == 0) {
                throw new ParameterException(spec.commandLine(), "--prompt encodes to no tokens");
            }
            int context = (int) Math.min(m.contextLength(), (long) promptIds.length + nPredict);
            if (promptIds.length >= context && nPredict > 0) {
                throw new IllegalArgumentException("prompt of " + promptIds.length
                        + " tokens fills the model's context of " + m.contextLength());
            }
            Network net = m.network();
            int vocab = m.vocabSize();
            Network.State st = m.newState(Math.min(BATCH, promptIds.length), Math.max(context, promptIds.length));
            int[] history = new int[promptIds.length + nPredict];
            System.arraycopy(promptIds, 0, history, 0, promptIds.length);
            float[] logits = new float[vocab];

            // prefill
            long t0 = System.nanoTime();
            for (int start = 0; start < promptIds.length; start += BATCH) {
                int n = Math.min(BATCH, promptIds.length - start);
                net.forward(promptIds, start, n, st);
                if (start + n == promptIds.length) {
                    net.logits(st, n - 1, 1, logits, 0);
                }
            }
            long t1 = System.nanoTime();

            // decode
            Sampler sampler = new Sampler(sampling, vocab);
            StreamingDecoder text = tok.streamingDecoder();
            int len = promptIds.length;
            int generated = 0;
            int[] one = new int[1];
            while (generated < nPredict && len < context) {
                int next = sampler.sample(logits, 0, new TokenHistory(history, len));
                if (tok.isEog(next)) {
                    break;
                }
                history[len++] = next;
                generated++;
                if (printIds) {
                    out.print(generated == 1 ? Integer.toString(next) : " " + next);
                } else {
                    out.print(text.push(next));
                }
                out.flush();
                if (generated < nPredict) {
                    one[0] = next;
                    net.forward(one, 0, 1, st);
                    net.logits(st, 0, 1, logits, 0);
                }
            }
            if (!printIds) {
                out.print(text.flush());
            }
            out.println();
            out.flush();
            long t2 = System.nanoTime();
            err.println(String.format(Locale.ROOT, "prompt: %d tokens in %.3f s (%.2f tok/s); "
                            + "generated: %d tokens in %.3f s (%.2f tok/s); threads %d",
                    promptIds.length, (t1 - t0) / 1e9, promptIds.length / ((t1 - t0) / 1e9),
                    generated, (t2 - t1) / 1e9, generated / Math.max(1e-9, (t2 - t1) / 1e9), model.threads()));
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
