package dev.taipan.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class JitLimitsTest {

    @Test
    void buildPassesTheLimitsToTheTestJvm() {
        // the pom's taipan.jvmArgs carries JitLimits.OPTIONS into surefire's forks
        assertEquals(OptionalLong.of(JitLimits.LIMIT), JitLimits.option("PerMethodTrapLimit"));
        assertEquals(OptionalLong.of(JitLimits.LIMIT), JitLimits.option("PerMethodRecompilationCutoff"));
        assertTrue(JitLimits.raised());
    }

    @Test
    void unknownOptionIsEmpty() {
        assertFalse(JitLimits.option("NoSuchTaipanOption").isPresent());
    }

    @Test
    void optionsNameBothLimitsWithTheLimit() {
        assertEquals(java.util.List.of("-XX:PerMethodTrapLimit=10000", "-XX:PerMethodRecompilationCutoff=10000"),
                JitLimits.OPTIONS);
    }
}
