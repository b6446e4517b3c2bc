package dev.taipan.examples.cli;

import dev.taipan.bench.SyntheticModels;
import dev.taipan.loaders.TensorSource;
import dev.taipan.quant.RepackedTensor;
import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.JitLimits;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.PassStats;
import dev.taipan.tensor.Tensor;
import java.io.PrintWriter;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code taipan bench}: end-to-end prefill and decode throughput of one model: prefill of a random
 * prompt in one batch, then greedy decoding one token at a time; the median of {@code --repeat}
 * runs, after at least {@code --warmup} runs of the same shape (default 4) while the JIT compiles
 * the kernels, and then more (at most {@code --max-warmup}) until the JIT compiled for at most
 * {@code --jit-quiet} per cent of the last run's time (default 0.2): on 2 cores the compiler
 * threads take the model's threads off their cores, and after 4 runs of the default shape the
 * granitehybrid benchmark model still lost 3.9-6.5 % of its measured decode time to passes stalled
 * 1-7 ms that way (benchmarks/README.md, twenty-fourth session); with a 2 % threshold (7 warm-up
 * runs), 1.2-5.3 %, with 0.2 % (10-11 runs) 0-2.5 %, and decode a median 10 % faster (twenty-fifth
 * session). The first warm-up run's decode rate is printed too ("cold"), as the rate a fresh
 * process starts at. The decode rate is also given as effective bandwidth, the bytes of weights one
 * decoded token reads (every tensor, the routed experts scaled by used/total, one embedding row)
 * times tokens per second, and as a share of the read bandwidth measured in the same process with
 * the same threads (a parallel dot product over two arrays of {@code --probe-mib}, default 256
 * MiB). {@code --synthetic} writes a model of {@link SyntheticModels} under {@code bench-models/}
 * first when it is not there yet.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prefill and decode tokens per second of a model.")
final class BenchCommand implements Callable<Integer> {

    /** The model: a file, or a synthetic preset written on first use. */
    static final class Source {
        @Option(names = {"-m", "--model"}, paramLabel = "PATH", description = "GGUF file or safetensors directory.")
        Path model;

        @Option(names = "--synthetic", paramLabel = "PRESET",
                description = "Synthetic model preset (qwen3moe, qwen3moe-tiny), written to bench-models/ if absent.")
        String synthetic;
    }

    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Source source;

    @Option(names = "--type", defaultValue = "Q8_0", paramLabel = "TYPE",
            description = "Matrix type of a synthetic model: F32, Q8_0, Q4_0 (default: ${DEFAULT-VALUE}).")
    private String type;

    @Option(names = "--prompt-tokens", defaultValue = "128", paramLabel = "N",
            description = "Prompt length prefilled in one batch (default: ${DEFAULT-VALUE}).")
    private int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "64", paramLabel = "N",
            description = "Tokens decoded one at a time (default: ${DEFAULT-VALUE}).")
    private int genTokens;

    @Option(names = {"-t", "--threads"}, defaultValue = "2", paramLabel = "N",
            description = "Worker threads (default: ${DEFAULT-VALUE}).")
    private int threads;

    @Option(names = "--repeat", defaultValue = "3", paramLabel = "R",
            description = "Measured runs; the median is reported (default: ${DEFAULT-VALUE}).")
    private int repeat;

    @Option(names = "--warmup", defaultValue = "4", paramLabel = "W",
            description = "Unmeasured runs first, for the JIT (default: ${DEFAULT-VALUE}: after two, the first"
                    + " measured decode run was still 10-20%% slower than the later ones); the first one's decode"
                    + " rate is reported as cold.")
    private int warmup;

    @Option(names = "--jit-quiet", defaultValue = "0.2", paramLabel = "PCT",
            description = "After the --warmup runs, keep warming up (at most --max-warmup runs in all) while the JIT"
                    + " compiled for more than PCT%% of the last run's time (default: ${DEFAULT-VALUE}; 0: exactly"
                    + " --warmup runs). On 2 cores the compiler threads take the model's threads off their cores:"
                    + " after 4 runs of the default shape, 3.9-6.5%% of the measured decode was such stalls.")
    private double jitQuiet;

    @Option(names = "--max-warmup", defaultValue = "24", paramLabel = "N",
            description = "Most warm-up runs --jit-quiet may take (default: ${DEFAULT-VALUE}); never fewer than"
                    + " --warmup.")
    private int maxWarmup;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    private boolean json;

    @Option(names = "--probe-mib", defaultValue = "256", paramLabel = "MIB",
            description = "Size of each of the two arrays the bandwidth probe reads (default: ${DEFAULT-VALUE}).")
    private int probeMib;

    @Option(names = "--pass-stats", description = "Also print, per decoded token of the measured runs, the"
            + " parallel passes by kind: calls, the calling thread's own work, its wait for the workers, and its"
            + " serial time before each pass (PassStats), and the passes stalled by a wait over 1 ms for a"
            + " worker, as '#' lines on stderr.")
    private boolean passStats;

    @Mixin
    private OffloadOptions offload;

    /** What one measurement found. */
    record Result(String model, int threads, int promptTokens, double prefillTokPerSec, int genTokens,
                  double decodeTokPerSec, double coldDecodeTokPerSec, long bytesPerToken, double readGbPerSec,
                  double[] decodeRuns, int warmupRuns, double lastWarmupJitShare) {

        double effectiveGbPerSec() {
            return bytesPerToken * decodeTokPerSec / 1e9;
        }
    }

    @Override
    public Integer call() {
        if (promptTokens < 1 || genTokens < 1 || threads < 1 || repeat < 1 || warmup < 0 || probeMib < 1
                || probeMib > 1024 || !(jitQuiet >= 0 && jitQuiet <= 100) || maxWarmup < 0) {
            throw new ParameterException(spec.commandLine(), "--prompt-tokens, --gen-tokens, --threads and --repeat"
                    + " must be >= 1, --warmup and --max-warmup >= 0, --probe-mib in [1, 1024],"
                    + " --jit-quiet in [0, 100]");
        }
        Path path = source.model != null ? source.model : synthetic();
        if (!Files.exists(path)) {
            throw new ParameterException(spec.commandLine(), "--model: " + path + " does not exist");
        }
        Result r = measure(path);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.printf(Locale.ROOT, "{\"model\":\"%s\",\"threads\":%d,\"prompt_tokens\":%d,\"prefill_tok_s\":%.3f,"
                            + "\"gen_tokens\":%d,\"decode_tok_s\":%.3f,\"bytes_per_token\":%d,\"effective_gb_s\":%.3f,"
                            + "\"read_gb_s\":%.3f,\"decode_runs_tok_s\":[%s],\"warmup_runs\":%d,\"cold_decode_tok_s\":%s,"
                            + "\"read_ahead_steps\":%d,\"warmup_runs_done\":%d,\"last_warmup_jit_share\":%s,"
                            + "\"jit_limits_raised\":%b}%n",
                    r.model().replace("\\", "\\\\").replace("\"", "\\\""), r.threads(), r.promptTokens(),
                    r.prefillTokPerSec(), r.genTokens(), r.decodeTokPerSec(), r.bytesPerToken(), r.effectiveGbPerSec(),
                    r.readGbPerSec(), rates(r.decodeRuns(), ","), warmup, warmup == 0 ? "null"
                            : String.format(Locale.ROOT, "%.3f", r.coldDecodeTokPerSec()), RepackedTensor.readAheadSteps(),
                    r.warmupRuns(), Double.isNaN(r.lastWarmupJitShare()) ? "null"
                            : String.format(Locale.ROOT, "%.4f", r.lastWarmupJitShare()), JitLimits.raised());
        } else {
            out.printf(Locale.ROOT, "model %s, %d thread(s), median of %d runs after %d warm-up run(s)%s%n", r.model(),
                    r.threads(), repeat, r.warmupRuns(), Double.isNaN(r.lastWarmupJitShare()) ? ""
                            : String.format(Locale.ROOT, " (JIT compiling %.1f%% of the last one)",
                                    100 * r.lastWarmupJitShare()));
            out.printf(Locale.ROOT, "prefill %4d tokens: %9.2f tok/s%n", r.promptTokens(), r.prefillTokPerSec());
            out.printf(Locale.ROOT, "decode  %4d tokens: %9.2f tok/s  (%.1f MB of weights per token: %.2f GB/s,"
                            + " %.0f%% of the measured read bandwidth %.2f GB/s)%n", r.genTokens(), r.decodeTokPerSec(),
                    r.bytesPerToken() / 1e6, r.effectiveGbPerSec(), 100 * r.effectiveGbPerSec() / r.readGbPerSec(),
                    r.readGbPerSec());
            out.printf(Locale.ROOT, "decode runs (tok/s, in order): %s%n", rates(r.decodeRuns(), " "));
            out.printf(Locale.ROOT, "repacked Q8_0/Q4_0 kernels read ahead %d steps (taipan.repack.readahead)%n",
                    RepackedTensor.readAheadSteps());
            if (warmup > 0) {
                out.printf(Locale.ROOT, "decode  %4d tokens: %9.2f tok/s  cold (first warm-up run, JIT compiling)%n",
                        r.genTokens(), r.coldDecodeTokPerSec());
            }
            if (!JitLimits.raised()) {
                out.println("note: this JVM runs without " + String.join(" ", JitLimits.OPTIONS)
                        + ", so the kernels' compiled code, and the figures above, vary from process to process");
            }
        }
        out.flush();
        return 0;
    }

    private Path synthetic() {
        DType dtype;
        SyntheticModels.Preset preset;
        try {
            dtype = DType.valueOf(type.toUpperCase(Locale.ROOT));
            preset = SyntheticModels.preset(source.synthetic);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage() == null ? "--type: unknown type " + type
                    : e.getMessage(), e);
        }
        Path path = Path.of("bench-models", preset.name() + "-" + dtype.name().toLowerCase(Locale.ROOT) + ".gguf");
        if (!Files.exists(path)) {
            spec.commandLine().getErr().println("writing " + path + " ...");
            try {
                Files.createDirectories(path.getParent());
                Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
                SyntheticModels.write(preset, dtype, 1234, tmp);
                Files.move(tmp, path);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return path;
    }

    private Result measure(Path path) {
        LoadOptions opts = offload.apply(LoadOptions.defaults().withThreads(threads)
                .withContextLength(promptTokens + genTokens + 1).withMaxBatch(promptTokens));
        try (Model m = Taipan.load(path, opts)) {
            int vocab = m.vocabSize();
            int[] prompt = new SplittableRandom(42).ints(promptTokens, Math.min(3, vocab - 1), vocab).toArray();
            Session s = m.newSession(Sampling.greedy());
            // warm-up with the measured shapes, so that C2 has compiled the batch kernels too; with
            // --pass-stats the warm-up records too (then forgets it), so that the measured runs
            // do not find the recording's code paths new and recompile around them
            PassStats stats = passStats ? new PassStats() : null;
            double cold = Double.NaN;
            int warmups = 0;
            double jitShare = Double.NaN;
            while (warmups < warmup || (warmup > 0 && warmups < maxWarmup && jitBusy(jitShare))) {
                long jit0 = jitMillis();
                long t0 = System.nanoTime();
                double[] rates = run(s, prompt, genTokens, m.parallel(), stats);
                double wallMs = (System.nanoTime() - t0) / 1e6;
                long jit1 = jitMillis();
                jitShare = jit0 < 0 || jit1 < 0 ? Double.NaN : (jit1 - jit0) / wallMs;
                cold = warmups == 0 ? rates[1] : cold;
                warmups++;
            }
            if (stats != null) {
                stats.reset();
            }
            double[] prefill = new double[repeat];
            double[] decode = new double[repeat];
            for (int i = 0; i < repeat; i++) {
                double[] rates = run(s, prompt, genTokens, m.parallel(), stats);
                prefill[i] = rates[0];
                decode[i] = rates[1];
            }
            if (stats != null) {
                printPassStats(stats, (long) repeat * genTokens, decode);
            }
            return new Result(String.valueOf(path.getFileName()), threads, promptTokens, median(prefill), genTokens,
                    median(decode), cold, bytesPerToken(m), readBandwidth(), decode, warmups, jitShare);
        }
    }

    /**
     * Whether a warm-up run whose time was {@code share} JIT compilation calls for another one:
     * over {@code --jit-quiet} per cent; never with {@code --jit-quiet 0} or where the JVM does
     * not report compilation time (NaN: the fixed {@code --warmup} count only).
     */
    private boolean jitBusy(double share) {
        return jitQuiet > 0 && share > jitQuiet / 100;
    }

    /** Milliseconds the JIT compilers have spent in this JVM, or -1 where it does not say. */
    private static long jitMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
    }

    // prefill the prompt, then greedy-decode n tokens (its passes recorded into stats if not null);
    // returns {prefill tok/s, decode tok/s}
    private static double[] run(Session s, int[] prompt, int n, Parallel par, PassStats stats) {
        s.reset();
        long t0 = System.nanoTime();
        float[] logits = s.prefill(prompt);
        long t1 = System.nanoTime();
        Kernels k = Kernels.vector();
        par.recordPasses(stats);
        for (int i = 0; i < n; i++) {
            logits = s.decode(k.argmax(logits, 0, logits.length));
        }
        par.recordPasses(null);
        long t2 = System.nanoTime();
        return new double[] {prompt.length * 1e9 / (t1 - t0), n * 1e9 / (t2 - t1)};
    }

    // per decoded token: each kind of pass, then the totals against the token's wall time
    private void printPassStats(PassStats stats, long tokens, double[] decodeRates) {
        PrintWriter err = spec.commandLine().getErr();
        double tokenUs = 0;
        for (double r : decodeRates) {
            tokenUs += 1e6 / r / decodeRates.length;
        }
        err.printf(Locale.ROOT, "# passes per decoded token (%d tokens, %.1f us each on average):%n", tokens, tokenUs);
        err.printf(Locale.ROOT, "# %-22s %7s %10s %10s %10s%n", "kind", "calls", "work us", "wait us", "serial us");
        long calls = 0;
        double work = 0;
        double wait = 0;
        double serial = 0;
        long stalls = 0;
        double stallMs = 0;
        for (PassStats.Kind kind : stats.kinds()) {
            stalls += kind.stalls();
            stallMs += kind.stallNanos() / 1e6;
            err.printf(Locale.ROOT, "# %-22s %7.1f %10.1f %10.1f %10.1f%n", kind.name(), (double) kind.calls() / tokens,
                    kind.workNanos() / 1e3 / tokens, kind.waitNanos() / 1e3 / tokens, kind.serialNanos() / 1e3 / tokens);
            calls += kind.calls();
            work += kind.workNanos() / 1e3 / tokens;
            wait += kind.waitNanos() / 1e3 / tokens;
            serial += kind.serialNanos() / 1e3 / tokens;
        }
        err.printf(Locale.ROOT, "# %-22s %7.1f %10.1f %10.1f %10.1f   (%.0f%% / %.0f%% / %.0f%% of the token)%n", "all",
                (double) calls / tokens, work, wait, serial, 100 * work / tokenUs, 100 * wait / tokenUs,
                100 * serial / tokenUs);
        err.printf(Locale.ROOT, "# stalled passes (a wait over %d ms): %d, %.1f ms in all, %.1f%% of the measured"
                        + " tokens' time%n",
                PassStats.STALL_NANOS / 1_000_000, stalls, stallMs, 100 * stallMs * 1e3 / (tokenUs * tokens));
        err.flush();
    }

    private static String rates(double[] v, String separator) {
        StringBuilder sb = new StringBuilder();
        for (double x : v) {
            sb.append(sb.isEmpty() ? "" : separator).append(String.format(Locale.ROOT, "%.3f", x));
        }
        return sb.toString();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Bytes of weights one decoded token reads: all tensors, routed experts by used/total, one embedding row. */
    static long bytesPerToken(Model m) {
        TensorSource src = m.source();
        String arch = m.architecture();
        int nExpert = src.metadata().getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        int nUsed = src.metadata().getInt(MetaKey.EXPERT_USED_COUNT.key(arch), 0);
        boolean tied = src.find("output.weight").isEmpty();
        long sum = 0;
        for (String name : src.names()) {
            Tensor t = src.find(name).orElseThrow();
            long bytes = t.data().byteSize();
            if (name.endsWith("_exps.weight") && nExpert > 0) {
                bytes = bytes / nExpert * nUsed;
            } else if (name.equals("token_embd.weight") && !tied) {
                bytes = t.rowBytes();
            }
            sum += bytes;
        }
        return sum;
    }

    // GB/s of a parallel dot product over two arrays of probeMib MiB, best of 5 passes
    private double readBandwidth() {
        int n = probeMib << 18;
        float[] a = new float[n];
        float[] b = new float[n];
        Arrays.fill(a, 1f);
        Arrays.fill(b, 0.5f);
        Kernels k = Kernels.vector();
        double best = 0;
        try (Parallel par = Parallel.create(threads)) {
            int chunks = threads * 64;
            double[] sink = new double[chunks];
            for (int pass = 0; pass < 6; pass++) {
                long t0 = System.nanoTime();
                par.forRange(chunks, (start, end) -> {
                    for (int c = start; c < end; c++) {
                        int from = (int) ((long) n * c / chunks);
                        int to = (int) ((long) n * (c + 1) / chunks);
                        sink[c] = k.dot(a, from, b, from, to - from);
                    }
                });
                double gbs = 2.0 * n * Float.BYTES / (System.nanoTime() - t0);
                best = pass == 0 ? best : Math.max(best, gbs);
            }
            if (Arrays.stream(sink).sum() != 0.5 * n) {
                throw new IllegalStateException("bandwidth probe computed a wrong sum");
            }
        }
        return best;
    }
}
