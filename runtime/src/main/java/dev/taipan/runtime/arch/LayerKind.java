package dev.taipan.runtime.arch;

/**
 * Which mixer and which FFN a layer has, decided once from metadata by the architecture (for
 * example a layer is recurrent where {@code head_count_kv} is 0). Switches over the two enums
 * pick the block classes, and the compiler checks they are exhaustive.
 */
public record LayerKind(Mixer mixer, Ffn ffn) {

    public enum Mixer { NONE, ATTENTION, MAMBA1, MAMBA2, MAMBA3, ATTENTION_AND_MAMBA2 }

    public enum Ffn { NONE, DENSE, MOE }

    @Override
    public String toString() {
        return mixer.name().toLowerCase(java.util.Locale.ROOT) + "+" + ffn.name().toLowerCase(java.util.Locale.ROOT);
    }
}
