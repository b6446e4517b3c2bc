package dev.taipan.runtime.arch.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hybrid fixtures (tiny-granitehybrid, tiny-jamba, tiny-nemotron_h; see
 * ../shared/fixtures/README.md §1) against llama.cpp's logits, F32 and Q8_0 (against the logits of
 * the dequantized weights), prefilled as one batch, fed one token at a time and in uneven chunks
 * (state carried between multi-token calls); and the layer kinds
 * each architecture derives from the metadata.
 */
class HybridArchitecturesTest {

    static Architecture arch(String stem) {
        return switch (stem) {
            case "granitehybrid" -> new GraniteHybridArchitecture();
            case "jamba" -> new JambaArchitecture();
            case "nemotron_h" -> new NemotronHArchitecture();
            default -> throw new IllegalArgumentException(stem);
        };
    }

    @ParameterizedTest(name = "{0} {1}, batch {2}")
    @CsvSource({
        "granitehybrid, f32, 32", "granitehybrid, f32, 1", "granitehybrid, q8_0, 32", "granitehybrid, q8_0, 1",
        "jamba, f32, 32", "jamba, f32, 1", "jamba, q8_0, 32", "jamba, q8_0, 1",
        "nemotron_h, f32, 32", "nemotron_h, f32, 1", "nemotron_h, q8_0, 32", "nemotron_h, q8_0, 1",
        "granitehybrid, f32, 7", "jamba, q8_0, 5", "nemotron_h, f32, 6",
    })
    void logitsMatchLlamaCpp(String stem, String type, int batch) {
        String reference = "tiny-" + stem + (type.equals("f32") ? "-f32.logits.txt" : "-q8_0.deq-logits.txt");
        FixtureRun.check(arch(stem), "tiny-" + stem + "-" + type + ".gguf", reference, batch, Kernels.vector());
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
        "granitehybrid, mamba2+moe attention+moe mamba2+moe mamba2+moe",
        "jamba, mamba1+dense mamba1+moe attention+dense mamba1+moe",
        "nemotron_h, mamba2+none none+dense attention+none none+dense mamba2+none none+dense",
    })
    void layerKindsComeFromMetadata(String stem, String kinds) {
        try (GgufFile file = GgufFile.open(FixtureRun.fixture("tiny-" + stem + "-f32.gguf"));
             Parallel par = Parallel.create(1)) {
            Network net = arch(stem).build(file, new BuildContext(Kernels.vector(), par));
            List<String> got = net.layers().stream().map(DecoderLayer::kind).map(Object::toString).toList();
            assertEquals(List.of(kinds.split(" ")), got);
        }
    }
}
