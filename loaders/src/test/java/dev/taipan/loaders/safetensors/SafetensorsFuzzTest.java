package dev.taipan.loaders.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.taipan.loaders.FuzzTargets;

/**
 * Coverage-guided fuzzing of the safetensors parser (Jazzer). In a normal test run this replays
 * the seed inputs under
 * {@code src/test/resources/dev/taipan/loaders/safetensors/SafetensorsFuzzTestInputs/parse}; with
 * {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration} (see loaders/README.md).
 */
class SafetensorsFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void parse(byte[] data) {
        FuzzTargets.safetensors(data);
    }
}
