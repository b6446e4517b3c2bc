package dev.taipan.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The {@code taipan} commands run in-process on stories260K (fixtures/real) and a tiny MoE fixture
 * (fixtures/gguf): their output parses back and equals llama.cpp's reference; errors are one line
 * and a non-zero status.
 */
class CliTest {
    private static final Path FIXTURES = Path.of("src/test/resources/fixtures");
    private static final String STORIES = FIXTURES.resolve("stories260K.gguf").toString();

    /** stdout, stderr and exit status of one command line. */
    private record Result(int status, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = TaipanCli.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void logitsOfStoriesEqualLlamaCpp() throws IOException {
        Logits ref = Logits.parse(Files.readString(FIXTURES.resolve("logits_once_upon_a_time_there_was_a.txt")));
        Result r = run("logits", "--model", STORIES, "--tokens", join(ref.tokens()), "--threads", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("# model=stories260K.gguf n_vocab=512 n_tokens=9\n"), r.out());
        Logits got = Logits.parse(r.out());
        assertArrayEquals(ref.tokens(), got.tokens());
        ref.assertClose(got);
    }

    @Test
    void logitsToFileOfQ8MoeEqualLlamaCppsQ8Logits(@TempDir Path dir) throws IOException {
        // the repacked Q8_0 kernels round the activations to int8 as llama.cpp's CPU backend does
        Logits ref = Logits.parse(Files.readString(FIXTURES.resolve("tiny-qwen2moe-q8_0.logits.txt")));
        Path out = dir.resolve("out.txt");
        Result r = run("logits", "-m", FIXTURES.resolve("tiny-qwen2moe-q8_0.gguf").toString(),
                "--tokens", join(ref.tokens()), "--out", out.toString(), "-t", "1");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.out());
        ref.assertClose(Logits.parse(Files.readString(out)));
    }

    @Test
    void outOfRangeTokenIsOneLineAndNonZero() {
        Result r = run("logits", "--model", STORIES, "--tokens", "1,403,512");
        assertEquals(TaipanCli.USAGE_ERROR, r.status());
        assertEquals("", r.out());
        assertEquals("taipan logits: --tokens: id 512 at position 2 is outside the vocabulary [0, 512) (see --help)",
                r.err().strip());
    }

    @Test
    void negativeTokenIsRejected() {
        Result r = run("logits", "--model", STORIES, "--tokens", "-1");
        assertEquals(TaipanCli.USAGE_ERROR, r.status());
        assertTrue(r.err().contains("id -1 at position 0"), r.err());
    }

    @Test
    void greedyIdsEqualLlamaCpp() throws IOException {
        List<String> lines = Files.readAllLines(FIXTURES.resolve("greedy_once_upon_a_time.txt"));
        String expected = field(lines, "generated_ids");
        Result r = run("generate", "--model", STORIES, "--prompt", "Once upon a time", "-n", "64", "--temp", "0",
                "--ids", "--threads", "2");
        assertEquals(0, r.status(), r.err());
        assertEquals(expected, r.out().strip());
        assertTrue(r.err().contains("prompt: 5 tokens"), r.err());
        assertTrue(r.err().contains("generated: 64 tokens"), r.err());
    }

    @Test
    void greedyTextEqualsLlamaCpp() throws IOException {
        List<String> lines = Files.readAllLines(FIXTURES.resolve("greedy_once_upon_a_time.txt"));
        String json = field(lines, "generated_text");
        String expected = json.substring(1, json.length() - 1).replace("\\n", "\n");
        Result r = run("generate", "-m", STORIES, "-p", "Once upon a time", "-n", "64", "--temp", "0");
        assertEquals(0, r.status(), r.err());
        assertEquals(expected + "\n", r.out());
    }

    @Test
    void noRepackDecodesTheSameGreedyIdsAsTheRepackedDefault() {
        String q8 = FIXTURES.resolve("tiny-qwen2moe-q8_0.gguf").toString();
        String[] args = {"generate", "-m", q8, "-p", "hello", "-n", "12", "--temp", "0", "--ids", "-t", "2"};
        Result repacked = run(args);
        String[] mapped = java.util.Arrays.copyOf(args, args.length + 1);
        mapped[args.length] = "--no-repack";
        Result plain = run(mapped);
        assertEquals(0, repacked.status(), repacked.err());
        assertEquals(0, plain.status(), plain.err());
        assertEquals(12, repacked.out().strip().split(" ").length);
        assertEquals(repacked.out(), plain.out());
    }

    @Test
    void seededSamplingIsReproducible() {
        String[] args = {"generate", "-m", STORIES, "-p", "The dog", "-n", "16", "--temp", "1.0", "--seed", "7", "--ids"};
        Result a = run(args);
        Result b = run(args);
        assertEquals(0, a.status(), a.err());
        assertEquals(a.out(), b.out());
        assertEquals(16, a.out().strip().split(" ").length);
    }

    @Test
    void invalidSamplingIsAUsageError() {
        Result r = run("generate", "-m", STORIES, "-p", "x", "--top-p", "0");
        assertEquals(TaipanCli.USAGE_ERROR, r.status());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("topP"), r.err());
    }

    @Test
    void missingModelFileIsOneLine() {
        Result r = run("logits", "--model", "no/such/model.gguf", "--tokens", "1");
        assertEquals(TaipanCli.USAGE_ERROR, r.status());
        assertEquals("taipan logits: --model: no/such/model.gguf does not exist (see --help)", r.err().strip());
    }

    @Test
    void unreadableModelIsOneLineWithoutVerboseAndATraceWithIt() {
        String notAModel = FIXTURES.resolve("greedy_once_upon_a_time.txt").toString();
        Result r = run("logits", "--model", notAModel, "--tokens", "1");
        assertEquals(TaipanCli.FAILURE, r.status());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("taipan logits: error: greedy_once_upon_a_time.txt: expected a .gguf file"), r.err());
        Result v = run("logits", "--model", notAModel, "--tokens", "1", "--verbose");
        assertEquals(TaipanCli.FAILURE, v.status());
        assertTrue(v.err().contains("\tat dev.taipan."), v.err());
    }

    @Test
    void noCommandIsAUsageError() {
        Result r = run();
        assertEquals(TaipanCli.USAGE_ERROR, r.status());
        assertTrue(r.err().contains("Commands:"), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"logits", "generate", "bench", "convert", "chat", "info"})
    void everyCommandHasHelp(String command) {
        Result r = run(command, "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("Usage: taipan " + command), r.out());
        assertTrue(r.out().contains(command.equals("convert") ? "--from" : "--model"), r.out());
        assertTrue(r.out().contains("--verbose"), r.out());
    }

    /**
     * picocli formats every description with {@code String.format}; one that does not format (a bare
     * {@code %}) is printed raw, with a warning on the JVM's own stderr, so this test watches that.
     */
    @Test
    void everyHelpFormatsWithoutPicocliWarnings() {
        CommandLine root = TaipanCli.commandLine();
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            root.getUsageMessage();
            root.getSubcommands().values().forEach(CommandLine::getUsageMessage);
        } finally {
            System.setErr(stderr);
        }
        assertEquals("", warnings.toString(StandardCharsets.UTF_8));
        assertEquals(TaipanCli.SUBCOMMANDS.size(), root.getSubcommands().size());
    }

    private static String field(List<String> lines, String name) {
        return lines.stream().filter(l -> l.startsWith(name + "\t")).findFirst()
                .orElseThrow().substring(name.length() + 1);
    }

    private static String join(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /** A {@code pos token logits…} text as the fixtures and {@code taipan logits} write it. */
    private record Logits(int[] tokens, float[][] rows) {
        static Logits parse(String text) {
            List<Integer> toks = new ArrayList<>();
            List<float[]> rows = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] f = line.trim().split(" ");
                assertEquals(rows.size(), Integer.parseInt(f[0]), "position column");
                toks.add(Integer.parseInt(f[1]));
                float[] row = new float[f.length - 2];
                for (int i = 0; i < row.length; i++) {
                    row[i] = Float.parseFloat(f[i + 2]);
                }
                rows.add(row);
            }
            return new Logits(toks.stream().mapToInt(Integer::intValue).toArray(), rows.toArray(new float[0][]));
        }

        /** The fixtures' F32 rule: max|diff| <= 1e-4 * max(1, max|ref|) per position, same argmax. */
        void assertClose(Logits got) {
            assertEquals(rows.length, got.rows.length, "positions");
            for (int p = 0; p < rows.length; p++) {
                float[] ref = rows[p];
                float[] g = got.rows[p];
                assertEquals(ref.length, g.length, "vocabulary size");
                double maxAbs = 0;
                double diff = 0;
                int refArg = 0;
                int gotArg = 0;
                for (int i = 0; i < ref.length; i++) {
                    maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
                    diff = Math.max(diff, Math.abs((double) ref[i] - g[i]));
                    refArg = ref[i] > ref[refArg] ? i : refArg;
                    gotArg = g[i] > g[gotArg] ? i : gotArg;
                }
                if (diff > 1e-4 * Math.max(1, maxAbs)) {
                    fail("position " + p + ": max|diff| " + diff);
                }
                assertEquals(refArg, gotArg, "argmax at position " + p);
            }
        }
    }
}
