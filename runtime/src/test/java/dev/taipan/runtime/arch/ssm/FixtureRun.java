package dev.taipan.runtime.arch.ssm;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.runtime.arch.Architecture;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.testing.PositionLogits;
import dev.taipan.runtime.testing.ReferenceLogits;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/**
 * Runs a tiny GGUF fixture (runtime/src/test/resources/fixtures/gguf, copies of
 * ../shared/fixtures/gguf, made by make_tiny.py --seed 1234 and dumped with llama.cpp 34af94cd)
 * through an architecture and compares every position's logits with the reference file, fed as
 * one prefill batch and one token at a time.
 */
final class FixtureRun {
    /** The fixtures' F32 rule: max|diff| <= 1e-4 * max(1, max|logit|) per position. */
    static final double TOL = 1e-4;

    private FixtureRun() {
    }

    static Path fixture(String name) {
        URL url = FixtureRun.class.getResource("/fixtures/gguf/" + name);
        if (url == null) {
            throw new IllegalStateException("test resource fixtures/gguf/" + name + " is missing");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Builds {@code stem}.gguf and checks it against {@code reference} in batches of {@code batch}. */
    static void check(Architecture arch, String gguf, String reference, int batch, Kernels kernels) {
        ReferenceLogits ref = ReferenceLogits.read(fixture(reference));
        try (GgufFile file = GgufFile.open(fixture(gguf)); Parallel par = Parallel.create(2)) {
            Network net = arch.build(file, new BuildContext(kernels, par));
            ref.assertMatchesF32(logits(net, ref.tokens(), batch), TOL);
        }
    }

    /** Logits of every position of {@code tokens}, fed {@code batch} tokens per forward call. */
    static float[][] logits(Network net, int[] tokens, int batch) {
        return PositionLogits.of(net, net.newState(new SessionLimits(batch, tokens.length)), tokens, batch);
    }
}
