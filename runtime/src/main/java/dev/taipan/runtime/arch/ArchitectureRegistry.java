package dev.taipan.runtime.arch;

import dev.taipan.loaders.ModelFormatException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The one place architectures are registered; lookup by architecture name. */
public final class ArchitectureRegistry {

    // One line per family. Keep sorted by module of origin: attention/MoE first, then SSM families.
    private static final List<Architecture> ALL = List.of(
            new dev.taipan.runtime.arch.transformer.Llama(),
            dev.taipan.runtime.arch.transformer.QwenDense.qwen2(),
            dev.taipan.runtime.arch.transformer.QwenDense.qwen3(),
            new dev.taipan.runtime.arch.transformer.Qwen2Moe(),
            new dev.taipan.runtime.arch.transformer.Qwen3Moe(),
            new dev.taipan.runtime.arch.transformer.Olmoe(),
            new dev.taipan.runtime.arch.transformer.Granite(),
            new dev.taipan.runtime.arch.ssm.MambaArchitecture(),
            new dev.taipan.runtime.arch.ssm.Mamba2Architecture(),
            new dev.taipan.runtime.arch.ssm.JambaArchitecture(),
            new dev.taipan.runtime.arch.ssm.GraniteHybridArchitecture(),
            new dev.taipan.runtime.arch.ssm.NemotronHArchitecture(),
            new dev.taipan.runtime.arch.ssm.FalconH1Architecture(),
            new dev.taipan.runtime.arch.mamba3.Mamba3Architecture()
    );

    private static final Map<String, Architecture> BY_NAME = index();

    private ArchitectureRegistry() {
    }

    private static Map<String, Architecture> index() {
        Map<String, Architecture> m = new LinkedHashMap<>();
        for (Architecture a : ALL) {
            for (String n : a.names()) {
                if (m.put(n, a) != null) {
                    throw new IllegalStateException("architecture '" + n + "' registered twice");
                }
            }
        }
        return m;
    }

    /** Every supported architecture name. */
    public static Set<String> names() {
        return BY_NAME.keySet();
    }

    /**
     * The architecture registered under {@code name}.
     *
     * @throws ModelFormatException naming the architecture and the supported ones when unknown
     */
    public static Architecture get(String name, String origin) {
        Architecture a = BY_NAME.get(name);
        if (a == null) {
            throw new ModelFormatException(origin + ": unsupported architecture '" + name
                    + "' (supported: " + String.join(", ", BY_NAME.keySet()) + ")");
        }
        return a;
    }
}
