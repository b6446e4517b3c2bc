package dev.taipan.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Entry point of {@code benchmarks.jar}. With {@code --report} (the default of the Maven
 * {@code bench} profile) it runs the kernel benchmarks ({@link MatvecBench}, {@link BandwidthBench})
 * and prints a Markdown table of GB/s, each kernel also as a share of the read bandwidth measured
 * with the same thread count in the same run. Any other arguments go to JMH's own command line
 * ({@code -h} lists them), e.g. {@code MatvecBench -p type=BF16}.
 */
public final class BenchMain {

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !args[0].equals("--report")) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        Options opts = new OptionsBuilder()
                .include("^" + BandwidthBench.class.getName().replace(".", "\\.") + "\\.")
                .include("^" + MatvecBench.class.getName().replace(".", "\\.") + "\\.")
                .build();
        printTable(run(opts));
    }

    private static Collection<RunResult> run(Options opts) throws RunnerException {
        return new Runner(opts).run();
    }

    /** One measured row: what, threads, GB/s and its error. */
    private record Row(String kernel, int threads, double gbps, double error) {
    }

    private static void printTable(Collection<RunResult> results) {
        List<Row> rows = new ArrayList<>();
        Map<Integer, Double> readByThreads = new HashMap<>();
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            int threads = Integer.parseInt(r.getParams().getParam("threads"));
            double bytes = switch (method) {
                case "matvec" -> MatvecBench.BYTES;
                case "read" -> BandwidthBench.BYTES;
                case "triad" -> 3.0 * BandwidthBench.BYTES;
                default -> Double.NaN;
            };
            String type = r.getParams().getParam("type");
            String kernel = type == null ? method : method + " " + type;
            double score = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            Row row = new Row(kernel, threads, score * bytes / 1e9, err * bytes / 1e9);
            rows.add(row);
            if (method.equals("read")) {
                readByThreads.put(threads, row.gbps());
            }
        }
        System.out.println();
        System.out.println("| kernel | threads | GB/s | ± (99.9%) | % of read bandwidth |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (Row row : rows) {
            Double read = readByThreads.get(row.threads());
            String share = read == null ? "n/a" : String.format("%.0f %%", 100 * row.gbps() / read);
            System.out.printf("| %s | %d | %.2f | %.2f | %s |%n", row.kernel(), row.threads(), row.gbps(), row.error(),
                    share);
        }
    }
}
