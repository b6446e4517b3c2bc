package dev.taipan.bench.ssm;

import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.SessionLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * End-to-end benchmarks of the state-space and hybrid models on the synthetic files of
 * {@link SsmSyntheticModels} (written under {@code --dir} on first use), printed as Markdown
 * tables for benchmarks/README.md.
 *
 * <ul>
 *   <li>{@code context}: for the Mamba-3 and the llama model, decode tok/s with 128, 1k and 8k
 *       tokens already in the session. One session per model is filled by batched prefill up to
 *       each length in turn (the fill rate is reported too), then {@code --gen} tokens are decoded
 *       greedily and timed. The memory column is {@link Session#cacheBytes()} of a session sized
 *       for exactly that many tokens (the KV cache is preallocated to the context length; the SSM
 *       state is fixed).</li>
 *   <li>{@code granite}: the granitehybrid preset in each {@code --types} with each
 *       {@code --threads}: prefill tok/s of a {@code --prompt}-token batch and decode tok/s of
 *       {@code --gen} tokens after it (median of {@code --repeat} runs after a warm-up), bytes of
 *       weights read per token, the effective bandwidth and its share of the read bandwidth
 *       measured in the same process with the same threads, and the ratio to llama.cpp's decode
 *       figures quoted in issue 5 (34af94cd, 2 threads).</li>
 * </ul>
 * Greedy decoding feeds the argmax of each step's logits; prompts are random token ids (seed 42).
 */
public final class SsmBench {
    /** llama.cpp 34af94cd decode tok/s on the granitehybrid preset, 2 threads (issue 5). */
    private static final Map<DType, Double> LLAMA_CPP_DECODE = Map.of(DType.Q8_0, 21.0, DType.Q4_0, 35.0);
    private static final long PROBE_BYTES = 512L << 20;

    private final Map<String, String> opts;
    private final Path dir;

    private SsmBench(Map<String, String> opts) {
        this.opts = opts;
        this.dir = Path.of(opts.getOrDefault("dir", "bench-models"));
    }

    /** {@code SsmBench context|granite [--option value]...}; see the class comment and README. */
    public static void main(String[] args) {
        if (args.length < 1 || !(args[0].equals("context") || args[0].equals("granite")) || args.length % 2 == 0) {
            System.err.println("""
                    usage: SsmBench context [--threads 2] [--contexts 128,1024,8192] [--gen 16] [--models mamba3,llama]
                                            [--type Q8_0] [--dir bench-models]
                           SsmBench granite [--types Q8_0,Q4_0] [--threads 1,2] [--prompt 128] [--gen 32]
                                            [--repeat 1] [--dir bench-models]""");
            System.exit(2);
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option, got '" + args[i] + "'");
            }
            opts.put(args[i].substring(2), args[i + 1]);
        }
        SsmBench bench = new SsmBench(opts);
        System.out.printf(Locale.ROOT, "%s, %d cores, load average at start %s%n", Runtime.version(),
                Runtime.getRuntime().availableProcessors(), loadAverage());
        if (args[0].equals("context")) {
            bench.context();
        } else {
            bench.granite();
        }
        System.out.printf(Locale.ROOT, "load average at end %s%n", loadAverage());
    }

    private void context() {
        int threads = Integer.parseInt(opts.getOrDefault("threads", "2"));
        int[] contexts = ints(opts.getOrDefault("contexts", "128,1024,8192"));
        int gen = Integer.parseInt(opts.getOrDefault("gen", "16"));
        DType type = DType.valueOf(opts.getOrDefault("type", "Q8_0").toUpperCase(Locale.ROOT));
        List<String> rows = new ArrayList<>();
        for (String name : opts.getOrDefault("models", "mamba3,llama").split(",")) {
            Path file = SsmSyntheticModels.ensure(SsmSyntheticModels.preset(name), type, dir);
            rows.addAll(contextRows(file, name, threads, contexts, gen));
        }
        System.out.printf(Locale.ROOT, "%n%d thread(s), %s, %d tokens decoded at each length%n%n", threads, type, gen);
        System.out.println("| model | weights | context | fill (prefill) tok/s | decode tok/s | session cache |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
    }

    private static List<String> contextRows(Path file, String name, int threads, int[] contexts, int gen) {
        int maxCtx = Arrays.stream(contexts).max().orElseThrow() + gen;
        int batch = 256;
        LoadOptions lo = LoadOptions.defaults().withThreads(threads).withContextLength(maxCtx).withMaxBatch(batch);
        List<String> rows = new ArrayList<>();
        try (Model m = Taipan.load(file, lo)) {
            SplittableRandom rnd = new SplittableRandom(42);
            Session warm = m.newSession(Sampling.greedy(), new SessionLimits(batch, 128));
            warm.prefill(tokens(rnd, 64, m.vocabSize()));
            decode(warm, 8);
            Session s = m.newSession(Sampling.greedy(), new SessionLimits(batch, maxCtx));
            for (int ctx : contexts) {
                int fill = ctx - s.position();
                long t0 = System.nanoTime();
                s.prefill(tokens(rnd, fill, m.vocabSize()));
                long t1 = System.nanoTime();
                decode(s, gen);
                long t2 = System.nanoTime();
                long cache = m.newSession(Sampling.greedy(), new SessionLimits(batch, ctx)).cacheBytes();
                String row = String.format(Locale.ROOT, "| %s | %.0f MB | %d | %.1f (%d tokens) | %.2f | %.1f MB |",
                        name, WeightBytes.total(m) / 1e6, ctx, fill * 1e9 / (t1 - t0), fill, gen * 1e9 / (t2 - t1),
                        cache / 1e6);
                System.err.println(row);
                rows.add(row);
            }
        }
        return rows;
    }

    private void granite() {
        List<DType> types = Arrays.stream(opts.getOrDefault("types", "Q8_0,Q4_0").split(","))
                .map(t -> DType.valueOf(t.toUpperCase(Locale.ROOT))).toList();
        int[] threads = ints(opts.getOrDefault("threads", "1,2"));
        int prompt = Integer.parseInt(opts.getOrDefault("prompt", "128"));
        int gen = Integer.parseInt(opts.getOrDefault("gen", "32"));
        int repeat = Integer.parseInt(opts.getOrDefault("repeat", "1"));
        List<String> rows = new ArrayList<>();
        for (DType type : types) {
            Path file = SsmSyntheticModels.ensure(SsmSyntheticModels.GRANITEHYBRID, type, dir);
            for (int t : threads) {
                String row = graniteRow(file, type, t, prompt, gen, repeat);
                System.err.println(row);
                rows.add(row);
            }
        }
        System.out.printf(Locale.ROOT, "%ngranitehybrid preset, prefill %d tokens in one batch, decode %d tokens,"
                + " median of %d run(s)%n%n", prompt, gen, repeat);
        System.out.println("| type | threads | prefill tok/s | decode tok/s | weights read / token | effective GB/s"
                + " | read GB/s (same run) | share | llama.cpp decode (2 t) | Taipan / llama.cpp |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        rows.forEach(System.out::println);
    }

    private static String graniteRow(Path file, DType type, int threads, int prompt, int gen, int repeat) {
        LoadOptions lo = LoadOptions.defaults().withThreads(threads).withContextLength(prompt + gen + 1)
                .withMaxBatch(prompt);
        double prefill;
        double decode;
        long perToken;
        try (Model m = Taipan.load(file, lo)) {
            SplittableRandom rnd = new SplittableRandom(42);
            int[] tokens = tokens(rnd, prompt, m.vocabSize());
            Session s = m.newSession(Sampling.greedy());
            s.prefill(Arrays.copyOf(tokens, Math.min(prompt, 16)));
            decode(s, Math.min(gen, 4));
            double[] pre = new double[repeat];
            double[] dec = new double[repeat];
            for (int r = 0; r < repeat; r++) {
                s.reset();
                long t0 = System.nanoTime();
                s.prefill(tokens);
                long t1 = System.nanoTime();
                decode(s, gen);
                long t2 = System.nanoTime();
                pre[r] = prompt * 1e9 / (t1 - t0);
                dec[r] = gen * 1e9 / (t2 - t1);
            }
            prefill = median(pre);
            decode = median(dec);
            perToken = WeightBytes.perToken(m);
        }
        double read = ReadBandwidth.measure(threads, PROBE_BYTES);
        double effective = perToken * decode / 1e9;
        double reference = LLAMA_CPP_DECODE.getOrDefault(type, Double.NaN);
        return String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | %.0f MB | %.2f | %.2f | %.0f%% | %s | %s |",
                type, threads, prefill, decode, perToken / 1e6, effective, read, 100 * effective / read,
                threads == 2 ? String.format(Locale.ROOT, "%.0f", reference) : "—",
                threads == 2 ? String.format(Locale.ROOT, "%.2f×", decode / reference) : "—");
    }

    // greedy: feed the argmax of the last logits n times
    private static void decode(Session s, int n) {
        Kernels k = Kernels.vector();
        float[] logits = s.lastLogits();
        for (int i = 0; i < n; i++) {
            logits = s.decode(k.argmax(logits, 0, logits.length));
        }
    }

    private static int[] tokens(SplittableRandom rnd, int n, int vocab) {
        return rnd.ints(n, Math.min(3, vocab - 1), vocab).toArray();
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
