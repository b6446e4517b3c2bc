package dev.taipan.runtime;

import java.util.List;

/**
 * How a session's MoE layers routed tokens since their statistics were last reset
 * ({@link Session#resetRoutingStats()}): per layer, how often each routed expert was chosen.
 * Empty for models without sparse MoE layers.
 *
 * @param layers one entry per sparse MoE layer, in layer order
 */
public record RoutingStats(List<Layer> layers) {

    /**
     * @param layer           index of the decoder layer
     * @param counts          (nExpert) selections of each expert
     * @param tokens          tokens routed
     * @param expertsPerToken experts chosen per token (expert_used_count)
     */
    public record Layer(int layer, long[] counts, long tokens, int expertsPerToken) {
    }

    public RoutingStats {
        layers = List.copyOf(layers);
    }

    public boolean isEmpty() {
        return layers.isEmpty();
    }

    /** Selections of each expert summed over the layers (layers with fewer experts add to the first ones). */
    public long[] totals() {
        int n = layers.stream().mapToInt(l -> l.counts().length).max().orElse(0);
        long[] sum = new long[n];
        for (Layer l : layers) {
            for (int e = 0; e < l.counts().length; e++) {
                sum[e] += l.counts()[e];
            }
        }
        return sum;
    }
}
