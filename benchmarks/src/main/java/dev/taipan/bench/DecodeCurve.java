package dev.taipan.bench;

import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Decode speed of one process over time (the steady-state figures of benchmarks/README.md
 * "Fourth session"): load with 2 threads, prefill a synthetic prompt, then decode {@code tokens}
 * tokens and print the rate of every window of {@code window} tokens, so that the JIT's warm-up
 * (the first windows) and the VM's drift are visible instead of folded into one figure.
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp "$(cat examples/target/classpath.txt)" dev.taipan.bench.DecodeCurve MODEL.gguf 256 64 128
 * </pre>
 */
public final class DecodeCurve {

    private DecodeCurve() {
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: DecodeCurve MODEL TOKENS WINDOW PROMPT_TOKENS");
            System.exit(2);
        }
        int tokens = Integer.parseInt(args[1]);
        int window = Integer.parseInt(args[2]);
        int promptTokens = Integer.parseInt(args[3]);
        LoadOptions options = LoadOptions.defaults().withThreads(2).withContextLength(promptTokens + tokens + window)
                .withMaxBatch(Math.max(1, Math.min(promptTokens, 256)));
        try (Model model = Taipan.load(Path.of(args[0]), options)) {
            Session session = model.newSession(Sampling.greedy());
            long p0 = System.nanoTime();
            session.prefill(LayoutProbe.prompt(promptTokens));
            System.out.printf(Locale.ROOT, "prefill %d tokens: %.1f tok/s%n", promptTokens,
                    promptTokens / ((System.nanoTime() - p0) / 1e9));
            int token = 5;
            long start = System.nanoTime();
            for (int done = 0; done < tokens; done += window) {
                long t0 = System.nanoTime();
                for (int j = 0; j < window; j++) {
                    session.decode(token);
                    token = (token * 31 + 7) % 30000;
                }
                long now = System.nanoTime();
                System.out.printf(Locale.ROOT, "t=%5.1f s, tokens %4d-%4d: %.2f tok/s%n", (now - start) / 1e9, done,
                        done + window, window / ((now - t0) / 1e9));
            }
        }
    }
}
