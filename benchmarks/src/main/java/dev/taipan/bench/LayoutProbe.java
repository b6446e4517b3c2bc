package dev.taipan.bench;

import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Decode speed of one model with its Q8_0/Q4_0 matrices mapped and repacked, in one process and
 * at one context length (the figures of benchmarks/README.md "Third session"): for each layout in
 * turn, load with 2 threads, prefill a synthetic prompt of {@code context} tokens in batches of
 * 256, decode 4 untimed and 24 timed tokens.
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp "$(cat examples/target/classpath.txt)" dev.taipan.bench.LayoutProbe MODEL.gguf 8192 MAPPED,REPACKED
 * </pre>
 */
public final class LayoutProbe {
    private static final int TIMED = 24;

    private LayoutProbe() {
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: LayoutProbe MODEL CONTEXT LAYOUT[,LAYOUT...]  (layouts: MAPPED, REPACKED)");
            System.exit(2);
        }
        int context = Integer.parseInt(args[1]);
        for (String layout : args[2].split(",")) {
            LoadOptions options = LoadOptions.defaults().withThreads(2).withContextLength(context + 64)
                    .withMaxBatch(256).withWeights(LoadOptions.WeightLayout.valueOf(layout));
            try (Model model = Taipan.load(Path.of(args[0]), options)) {
                Session session = model.newSession(Sampling.greedy());
                int[] prompt = prompt(context);
                long p0 = System.nanoTime();
                session.prefill(prompt);
                double prefill = (System.nanoTime() - p0) / 1e9;
                int token = 5;
                for (int i = 0; i < 4; i++) {
                    session.decode(token);
                }
                long t0 = System.nanoTime();
                for (int i = 0; i < TIMED; i++) {
                    session.decode(token);
                    token = (token * 31 + 7) % 30000;
                }
                double decode = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "%s context %d: prefill %.1f tok/s, decode %.2f tok/s%n",
                        layout, context, context / prefill, TIMED / decode);
            }
        }
    }

    /** A synthetic prompt of {@code n} token ids in {@code [1, 30000]}, the same in every probe. */
    static int[] prompt(int n) {
        int[] prompt = new int[n];
        for (int i = 0; i < n; i++) {
            prompt[i] = 1 + (i * 7919) % 30000;
        }
        return prompt;
    }
}
