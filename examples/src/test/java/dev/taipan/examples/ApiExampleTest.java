package dev.taipan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.examples.chat.BundledModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's API example runs on the bundled model: seeded sampling repeats, and the greedy next
 * token after "Once upon a time" is llama.cpp's (',' = id 432, fixtures/greedy_once_upon_a_time.txt).
 */
class ApiExampleTest {

    private static String run() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            ApiExample.run(BundledModel.path(), out);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String withoutSpeed(String s) {
        return s.replaceAll("at \\d+ tok/s", "at N tok/s");
    }

    @Test
    void runsOnTheBundledModelAndRepeatsWithItsSeed() {
        String first = run();
        List<String> lines = first.lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("\\[5 prompt tokens, 48 generated at \\d+ tok/s, stop: "
                + "MAX_TOKENS]")), first);
        assertTrue(lines.contains("most likely after \"Once upon a time\": \",\""), first);
        assertEquals(withoutSpeed(first), withoutSpeed(run()));
    }
}
