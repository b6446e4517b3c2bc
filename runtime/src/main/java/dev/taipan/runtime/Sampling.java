package dev.taipan.runtime;

import java.util.OptionalLong;

/**
 * How the next token is chosen from the logits: an immutable configuration with a fluent API,
 * {@code Sampling.temperature(0.7).topP(0.9).topK(40).minP(0.05).repetitionPenalty(1.1).seed(42)};
 * each call returns a new {@code Sampling}. A {@link dev.taipan.runtime.sampling.Sampler} applies
 * it, in llama.cpp's order (common/sampling.cpp default chain): penalties over the last
 * {@link #penaltyWindow} tokens, top-k, top-p, min-p, temperature, then a draw from the softmax.
 * A temperature of 0 is greedy: the (penalised) argmax.
 *
 * @param temperature       0 = greedy; otherwise logits are divided by it before the draw
 * @param topK              keep the k most likely tokens; 0 = off
 * @param topP              keep the most likely tokens whose probabilities first reach p; 1 = off
 * @param minP              keep tokens with probability at least minP times the best one's; 0 = off
 * @param repetitionPenalty divide positive / multiply negative logits of recent tokens; 1 = off
 * @param frequencyPenalty  subtract this times a recent token's count; 0 = off
 * @param presencePenalty   subtract this once from every recent token; 0 = off
 * @param penaltyWindow     how many of the most recent tokens the penalties look at (llama.cpp
 *                          {@code penalty_last_n}, default 64); 0 = penalties off
 * @param seed              seed of the random generator; empty = a fresh random seed per sampler
 */
public record Sampling(double temperature, int topK, double topP, double minP, double repetitionPenalty,
        double frequencyPenalty, double presencePenalty, int penaltyWindow, OptionalLong seed) {

    /** llama.cpp's default {@code penalty_last_n}. */
    public static final int DEFAULT_PENALTY_WINDOW = 64;

    public Sampling {
        check(Double.isFinite(temperature) && temperature >= 0, "temperature", temperature, "must be >= 0");
        check(topK >= 0, "topK", topK, "must be >= 0 (0 = off)");
        check(topP > 0 && topP <= 1, "topP", topP, "must be in (0, 1] (1 = off)");
        check(minP >= 0 && minP <= 1, "minP", minP, "must be in [0, 1] (0 = off)");
        check(Double.isFinite(repetitionPenalty) && repetitionPenalty > 0, "repetitionPenalty", repetitionPenalty,
                "must be > 0 (1 = off)");
        check(Double.isFinite(frequencyPenalty), "frequencyPenalty", frequencyPenalty, "must be finite");
        check(Double.isFinite(presencePenalty), "presencePenalty", presencePenalty, "must be finite");
        check(penaltyWindow >= 0, "penaltyWindow", penaltyWindow, "must be >= 0");
        if (seed == null) {
            throw new IllegalArgumentException("sampling seed must not be null (use OptionalLong.empty())");
        }
    }

    private static void check(boolean ok, String name, double value, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("sampling " + name + " = " + value + " " + rule);
        }
    }

    /** Always the most likely token. */
    public static Sampling greedy() {
        return new Sampling(0, 0, 1, 0, 1, 0, 0, DEFAULT_PENALTY_WINDOW, OptionalLong.empty());
    }

    /** Draws from softmax(logits / t) with no other filter; t = 0 is {@link #greedy()}. */
    public static Sampling temperature(double t) {
        return greedy().withTemperature(t);
    }

    public Sampling withTemperature(double t) {
        return new Sampling(t, topK, topP, minP, repetitionPenalty, frequencyPenalty, presencePenalty,
                penaltyWindow, seed);
    }

    public Sampling topK(int k) {
        return new Sampling(temperature, k, topP, minP, repetitionPenalty, frequencyPenalty, presencePenalty,
                penaltyWindow, seed);
    }

    public Sampling topP(double p) {
        return new Sampling(temperature, topK, p, minP, repetitionPenalty, frequencyPenalty, presencePenalty,
                penaltyWindow, seed);
    }

    public Sampling minP(double p) {
        return new Sampling(temperature, topK, topP, p, repetitionPenalty, frequencyPenalty, presencePenalty,
                penaltyWindow, seed);
    }

    public Sampling repetitionPenalty(double penalty) {
        return new Sampling(temperature, topK, topP, minP, penalty, frequencyPenalty, presencePenalty,
                penaltyWindow, seed);
    }

    public Sampling frequencyPenalty(double penalty) {
        return new Sampling(temperature, topK, topP, minP, repetitionPenalty, penalty, presencePenalty,
                penaltyWindow, seed);
    }

    public Sampling presencePenalty(double penalty) {
        return new Sampling(temperature, topK, topP, minP, repetitionPenalty, frequencyPenalty, penalty,
                penaltyWindow, seed);
    }

    public Sampling penaltyWindow(int lastN) {
        return new Sampling(temperature, topK, topP, minP, repetitionPenalty, frequencyPenalty, presencePenalty,
                lastN, seed);
    }

    public Sampling seed(long value) {
        return new Sampling(temperature, topK, topP, minP, repetitionPenalty, frequencyPenalty, presencePenalty,
                penaltyWindow, OptionalLong.of(value));
    }

    /** Whether this always picks the most likely (penalised) token. */
    public boolean isGreedy() {
        return temperature == 0;
    }

    /** Whether any penalty changes the logits. */
    public boolean hasPenalties() {
        return penaltyWindow > 0 && (repetitionPenalty != 1 || frequencyPenalty != 0 || presencePenalty != 0);
    }
}
