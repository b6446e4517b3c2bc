package dev.taipan.examples.cli;

import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code taipan logits}: the logits of every position of a token sequence, prefilled in batches,
 * in the format of the fixtures' {@code .logits.txt}: a {@code #} header line, then
 * {@code pos token logit_0 … logit_{V-1}} per position, each float printed so that it parses back
 * to the same float32 ({@link Float#toString}: the shortest decimal that round-trips).
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Print the logits after each token of a sequence (one line per position).")
final class LogitsCommand implements Callable<Integer> {

    /** Most tokens per forward pass. */
    private static final int BATCH = 256;
    /** Most logits held at once (64 MiB of floats). */
    private static final int MAX_LOGITS = 1 << 24;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions model;

    @Option(names = "--tokens", required = true, split = ",", paramLabel = "ID,ID,...",
            description = "Token ids, comma separated.")
    private List<Integer> tokens;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write to FILE instead of stdout.")
    private Path out;

    @Override
    public Integer call() throws IOException {
        int[] ids = tokens.stream().mapToInt(Integer::intValue).toArray();
        try (Model m = model.load(ids.length, Math.min(BATCH, ids.length))) {
            checkIds(ids, m.vocabSize());
            if (out == null) {
                write(m, ids, spec.commandLine().getOut());
            } else {
                try (Writer w = new BufferedWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
                    write(m, ids, w);
                }
            }
        }
        return 0;
    }

    private void checkIds(int[] ids, int vocab) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new ParameterException(spec.commandLine(), "--tokens: id " + ids[i] + " at position " + i
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    private static void write(Model m, int[] ids, Writer w) throws IOException {
        int vocab = m.vocabSize();
        Session session = m.newSession(Sampling.greedy());
        int chunk = Math.max(1, Math.min(BATCH, MAX_LOGITS / vocab));
        w.write("# model=" + m.source().path().getFileName() + " n_vocab=" + vocab + " n_tokens=" + ids.length + "\n");
        StringBuilder line = new StringBuilder();
        for (int start = 0; start < ids.length; start += chunk) {
            float[][] rows = session.logits(Arrays.copyOfRange(ids, start, Math.min(ids.length, start + chunk)));
            for (int t = 0; t < rows.length; t++) {
                line.setLength(0);
                line.append(start + t).append(' ').append(ids[start + t]);
                for (float v : rows[t]) {
                    line.append(' ').append(v);
                }
                w.write(line.append('\n').toString());
            }
        }
        w.flush();
    }
}
