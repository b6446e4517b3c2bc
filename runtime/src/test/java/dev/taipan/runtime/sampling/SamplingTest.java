package dev.taipan.runtime.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.runtime.Sampling;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The immutable fluent {@link Sampling} configuration. */
class SamplingTest {

    @Test
    void fluentCallsReturnNewValuesAndKeepTheRest() {
        Sampling base = Sampling.temperature(0.7);
        Sampling full = base.topP(0.9).topK(40).minP(0.05).repetitionPenalty(1.1).frequencyPenalty(0.2)
                .presencePenalty(0.5).penaltyWindow(32).seed(42);
        assertEquals(new Sampling(0.7, 0, 1, 0, 1, 0, 0, 64, OptionalLong.empty()), base);
        assertEquals(new Sampling(0.7, 40, 0.9, 0.05, 1.1, 0.2, 0.5, 32, OptionalLong.of(42)), full);
        assertEquals(0.3, full.withTemperature(0.3).temperature());
        assertEquals(40, full.withTemperature(0.3).topK());
        assertTrue(full.hasPenalties());
        assertFalse(base.hasPenalties());
        assertFalse(full.penaltyWindow(0).hasPenalties());
    }

    @Test
    void temperatureZeroIsGreedy() {
        assertTrue(Sampling.greedy().isGreedy());
        assertTrue(Sampling.temperature(0).isGreedy());
        assertFalse(Sampling.temperature(0.1).isGreedy());
        assertEquals(Sampling.greedy(), Sampling.temperature(0));
    }

    @Test
    void invalidValuesNameTheParameter() {
        assertMessage(() -> Sampling.temperature(-0.1), "temperature");
        assertMessage(() -> Sampling.temperature(Double.NaN), "temperature");
        assertMessage(() -> Sampling.greedy().topK(-1), "topK");
        assertMessage(() -> Sampling.greedy().topP(0), "topP");
        assertMessage(() -> Sampling.greedy().topP(1.5), "topP");
        assertMessage(() -> Sampling.greedy().minP(-0.1), "minP");
        assertMessage(() -> Sampling.greedy().repetitionPenalty(0), "repetitionPenalty");
        assertMessage(() -> Sampling.greedy().presencePenalty(Double.POSITIVE_INFINITY), "presencePenalty");
        assertMessage(() -> Sampling.greedy().frequencyPenalty(Double.NaN), "frequencyPenalty");
        assertMessage(() -> Sampling.greedy().penaltyWindow(-1), "penaltyWindow");
    }

    private static void assertMessage(Runnable action, String parameter) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action::run);
        assertTrue(e.getMessage().contains(parameter), e.getMessage());
    }
}
