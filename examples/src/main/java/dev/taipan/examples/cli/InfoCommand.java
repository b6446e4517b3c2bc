package dev.taipan.examples.cli;

import dev.taipan.opencl.OpenClDevices;
import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.ModelInfo;
import dev.taipan.runtime.Taipan;
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
 * {@code taipan info}: what a model is ({@link ModelInfo}): architecture, parameters (total and
 * active per token), layer kinds, tensor types, tokenizer, context length and the memory one
 * session needs at that context.
 */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Describe a model: architecture, parameters, layers, tensor types, tokenizer, memory.")
final class InfoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions model;

    @Option(names = "--devices", help = true,
            description = "List the OpenCL devices (for --device) and exit; no model needed.")
    private boolean devices;

    @Option(names = "--ctx", defaultValue = "0", paramLabel = "N",
            description = "Context length to size the caches for (default: the model's trained context).")
    private int context;

    @Override
    public Integer call() {
        if (devices) {
            return listDevices(spec.commandLine().getOut());
        }
        if (context < 0) {
            throw new ParameterException(spec.commandLine(), "--ctx must be >= 0, got " + context);
        }
        PrintWriter out = spec.commandLine().getOut();
        // mapped only: describing the model needs no decode copy of its matrices
        try (Model m = Taipan.load(model.model(), LoadOptions.defaults().withThreads(1)
                .withContextLength(Math.max(context, 1)).withMaxBatch(1).withWeights(LoadOptions.WeightLayout.MAPPED))) {
            print(m.info(), out);
        }
        out.flush();
        return 0;
    }

    /** One line per OpenCL device, or why there is none. */
    private static int listDevices(PrintWriter out) {
        OpenClDevices.Probe probe = OpenClDevices.probe();
        if (!probe.available()) {
            out.println("no OpenCL device: " + probe.reason());
        }
        for (OpenClDevices.DeviceInfo d : probe.devices()) {
            out.println(d.describe());
        }
        out.flush();
        return 0;
    }

    private void print(ModelInfo info, PrintWriter out) {
        out.println("model:        " + info.name() + " (" + model.model() + ")");
        out.println("architecture: " + info.architecture());
        ModelInfo.Parameters p = info.parameters();
        out.println("parameters:   " + count(p.total()) + " (" + p.total() + ")");
        if (p.isMoe()) {
            out.println("active:       " + count(p.active()) + " per token (" + p.active() + "), "
                    + p.moeLayers() + " sparse MoE layers");
        }
        out.println("layers:       " + info.layers().stream().mapToInt(ModelInfo.LayerRun::count).sum());
        for (ModelInfo.LayerRun run : info.layers()) {
            String range = run.count() == 1 ? Integer.toString(run.first())
                    : run.first() + "-" + (run.first() + run.count() - 1);
            out.println(String.format(Locale.ROOT, "  %-8s %s", range, run.kind()));
        }
        out.println("tensors:");
        for (ModelInfo.TypeCount t : info.tensorTypes()) {
            out.println(String.format(Locale.ROOT, "  %-7s %4d tensors, %s parameters, %s", t.type(), t.tensors(),
                    count(t.params()), bytes(t.bytes())));
        }
        out.println("tokenizer:    " + info.tokenizer().map(t -> t.kind().name().toLowerCase(Locale.ROOT)
                + ", " + t.vocabSize() + " tokens, bos " + quoted(t.bos()) + ", eos " + quoted(t.eos())
                + (t.hasChatTemplate() ? ", chat template" : ", no chat template")).orElse("none"));
        int trained = info.context().trained();
        int ctx = context > 0 ? context : trained > 0 ? trained : LoadOptions.DEFAULT_CONTEXT_CAP;
        out.println("context:      " + (trained > 0 ? trained + " tokens trained" : "not in the file")
                + (context > 0 ? ", sized for " + context : ""));
        ModelInfo.Memory mem = info.memory();
        out.println("memory:       " + bytes(mem.totalBytes(ctx)) + " at " + ctx + " tokens = weights "
                + bytes(mem.weightBytes()) + " (mapped) + "
                + (mem.decodeCopyBytes() > 0 ? "decode copy " + bytes(mem.decodeCopyBytes()) + " (--no-repack: none) + " : "")
                + "caches " + bytes(mem.cacheBytes(ctx)) + " ("
                + bytes(mem.cacheBytesPerToken()) + " per token"
                + (mem.cacheBytesFixed() > 0 ? " + " + bytes(mem.cacheBytesFixed()) + " SSM state" : "") + ")");
    }

    private static String quoted(String s) {
        return s.isEmpty() ? "none" : "'" + s + "'";
    }

    /** 1234567 -> "1.23M". */
    static String count(long n) {
        if (n < 1000) {
            return Long.toString(n);
        }
        String[] units = {"K", "M", "B", "T"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f%s", v, units[u]);
    }

    /** 1536 -> "1.50 KiB". */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
