package dev.taipan.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.tensor.SessionLimits;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public API end to end on stories260K (a real trained llama): Taipan.load, Session, generate. */
class SessionTest {
    private static Model model;

    @BeforeAll
    static void load() throws URISyntaxException {
        model = Taipan.load(fixture("real/stories260K.gguf"), LoadOptions.defaults().withThreads(2));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(SessionTest.class.getResource("/fixtures/" + name).toURI());
    }

    /** prompt_ids and generated_ids of a greedy_*.txt reference. */
    static int[][] greedyReference(String name) throws IOException, URISyntaxException {
        int[][] out = new int[2][];
        for (String line : Files.readAllLines(fixture("real/" + name))) {
            String[] kv = line.split("\t");
            if (kv[0].equals("prompt_ids")) {
                out[0] = Arrays.stream(kv[1].split(" ")).mapToInt(Integer::parseInt).toArray();
            } else if (kv[0].equals("generated_ids")) {
                out[1] = Arrays.stream(kv[1].split(" ")).mapToInt(Integer::parseInt).toArray();
            }
        }
        return out;
    }

    private static int[] greedyIds(Session s, int[] prompt, int n) {
        List<Integer> ids = new ArrayList<>();
        s.generateTokens(prompt, n, ids::add);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void greedyGenerationEqualsLlamaCpp() throws Exception {
        for (String ref : List.of("greedy_once_upon_a_time.txt", "greedy_the_little_dog.txt")) {
            int[][] r = greedyReference(ref);
            Session s = model.newSession(Sampling.greedy());
            assertArrayEquals(r[1], greedyIds(s, r[0], r[1].length), ref);
        }
    }

    @Test
    void textGenerationEncodesWithBosAndStreamsText() throws Exception {
        int[][] r = greedyReference("greedy_once_upon_a_time.txt");
        Session s = model.newSession(Sampling.greedy());
        StringBuilder text = new StringBuilder();
        GenerationStats stats = s.generate("Once upon a time", 64, text::append);
        assertEquals(r[0].length, stats.promptTokens());
        assertEquals(64, stats.generatedTokens());
        assertEquals(GenerationStats.StopReason.MAX_TOKENS, stats.stop());
        String expected = model.tokenizer().orElseThrow().decode(r[1]);
        assertEquals(expected, text.toString());
    }

    @Test
    void continuingAConversationEqualsOneLongPrompt() throws Exception {
        int[][] r = greedyReference("greedy_once_upon_a_time.txt");
        Session split = model.newSession(Sampling.greedy());
        int[] first = greedyIds(split, r[0], 10);
        int[] second = greedyIds(split, new int[0], 10);
        int[] joined = new int[20];
        System.arraycopy(first, 0, joined, 0, 10);
        System.arraycopy(second, 0, joined, 10, 10);
        assertArrayEquals(Arrays.copyOf(r[1], 20), joined);
    }

    @Test
    void twoSessionsOnTwoThreadsMatchSerialRuns() throws Exception {
        int[][] a = greedyReference("greedy_once_upon_a_time.txt");
        int[][] b = greedyReference("greedy_the_little_dog.txt");
        int[] serialA = greedyIds(model.newSession(Sampling.greedy()), a[0], 48);
        int[] serialB = greedyIds(model.newSession(Sampling.greedy()), b[0], 48);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<int[]> fa = pool.submit(() -> greedyIds(model.newSession(Sampling.greedy()), a[0], 48));
            Future<int[]> fb = pool.submit(() -> greedyIds(model.newSession(Sampling.greedy()), b[0], 48));
            assertArrayEquals(serialA, fa.get());
            assertArrayEquals(serialB, fb.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void seededSamplingIsReproducible() throws Exception {
        int[] prompt = greedyReference("greedy_once_upon_a_time.txt")[0];
        Sampling s = Sampling.temperature(0.9).topP(0.95).seed(7);
        int[] one = greedyIds(model.newSession(s), prompt, 32);
        int[] two = greedyIds(model.newSession(s), prompt, 32);
        assertArrayEquals(one, two);
    }

    @Test
    void contextOverflowIsAClearError() {
        Session s = model.newSession(Sampling.greedy(), new SessionLimits(4, 8));
        s.prefill(new int[] {1, 403, 407, 261, 378});
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.prefill(new int[] {1, 2, 3, 4}));
        assertTrue(e.getMessage().contains("context length 8 exceeded"), e.getMessage());
    }

    @Test
    void tokenOutOfRangeIsAClearError() {
        Session s = model.newSession(Sampling.greedy());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.logits(new int[] {1, 512}));
        assertTrue(e.getMessage().contains("512"), e.getMessage());
    }

    @Test
    void cancelStopsGeneration() throws Exception {
        Session s = model.newSession(Sampling.greedy());
        int[] prompt = greedyReference("greedy_once_upon_a_time.txt")[0];
        List<Integer> got = new ArrayList<>();
        GenerationStats stats = s.generateTokens(prompt, 64, id -> {
            got.add(id);
            if (got.size() == 5) {
                s.cancel();
            }
        });
        assertEquals(GenerationStats.StopReason.CANCELLED, stats.stop());
        assertEquals(5, got.size());
    }

    @Test
    void unknownFilesAreRefusedWithTheirName(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path bogus = Files.write(dir.resolve("bogus.gguf"), new byte[] {'G', 'G', 'U', 'X', 3, 0, 0, 0});
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Taipan.load(bogus));
        assertTrue(e.getMessage().contains("bogus.gguf"), e.getMessage());
    }
}
