package dev.taipan.loaders.gguf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.taipan.loaders.FuzzTargets;

/**
 * Coverage-guided fuzzing of the GGUF parser (Jazzer). In a normal test run this replays the seed
 * inputs under {@code src/test/resources/dev/taipan/loaders/gguf/GgufFuzzTestInputs/parse}; with
 * {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration} (see loaders/README.md).
 */
class GgufFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void parse(byte[] data) {
        FuzzTargets.gguf(data);
    }
}
