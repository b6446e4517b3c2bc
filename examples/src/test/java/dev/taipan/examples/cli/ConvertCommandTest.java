package dev.taipan.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code taipan convert} end to end: the Mamba-3 MIMO fixture (BF16 safetensors, copied from
 * ../shared/fixtures/mamba3) converted to GGUF, then {@code taipan logits} on the file, equals the
 * fixture's reference logits within 1e-4 at every position; bad arguments fail with a message.
 */
class ConvertCommandTest {
    private static final Path FIXTURE = Path.of("src/test/resources/fixtures/mamba3/mimo2_outnorm_heavytail_bf16");

    @TempDir
    Path tmp;

    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = TaipanCli.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(status, out.toString(), err.toString());
    }

    @Test
    void convertedFileGivesTheReferenceLogits() throws IOException {
        Path gguf = tmp.resolve("m3.gguf");
        Run c = run("convert", "--from", FIXTURE.toString(), "--to", gguf.toString(), "--type", "F16");
        assertEquals(0, c.status(), c.err());
        assertTrue(c.out().contains("wrote"), c.out());
        String tokens = Files.readString(FIXTURE.resolve("tokens.txt")).trim().replaceAll("\\s+", ",");
        Path logits = tmp.resolve("logits.txt");
        Run l = run("logits", "--model", gguf.toString(), "--tokens", tokens, "-o", logits.toString());
        assertEquals(0, l.status(), l.err());
        List<String> ref = Files.readAllLines(FIXTURE.resolve("logits.txt"));
        List<String> got = Files.readAllLines(logits).stream().filter(s -> !s.startsWith("#")).toList();
        assertEquals(ref.size(), got.size());
        for (int p = 0; p < ref.size(); p++) {
            String[] r = ref.get(p).trim().split("\\s+");
            String[] g = got.get(p).trim().split("\\s+");
            assertEquals(r.length + 2, g.length, "position " + p + ": pos, token, then the logits");
            for (int i = 0; i < r.length; i++) {
                double d = Math.abs(Double.parseDouble(r[i]) - Double.parseDouble(g[i + 2]));
                assertTrue(d <= 1e-4, "position " + p + " logit " + i + ": " + r[i] + " vs " + g[i + 2]);
            }
        }
    }

    @Test
    void badArgumentsAreReported() {
        Run missing = run("convert", "--from", tmp.resolve("nope").toString(), "--to", tmp.resolve("x.gguf").toString());
        assertEquals(TaipanCli.USAGE_ERROR, missing.status());
        assertTrue(missing.err().contains("not a directory"), missing.err());
        Run badType = run("convert", "--from", FIXTURE.toString(), "--to", tmp.resolve("x.gguf").toString(),
                "--type", "Q2_K");
        assertEquals(TaipanCli.USAGE_ERROR, badType.status());
        Run noConfig = run("convert", "--from", tmp.toString(), "--to", tmp.resolve("x.gguf").toString());
        assertEquals(TaipanCli.FAILURE, noConfig.status());
        assertTrue(noConfig.err().contains("convert"), noConfig.err());
    }
}
