package dev.taipan.runtime.arch.mamba3;

import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufKv;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.runtime.arch.Weights;
import dev.taipan.tensor.Tensor;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.testing.PositionLogits;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Helpers of the Mamba-3 runtime tests: fixture paths, building, and logits of token runs. */
final class Mamba3Run {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures/mamba3");
    static final String[] NAMES = {"siso_softplus_f32", "mimo2_outnorm_heavytail_bf16", "siso_heavytail_rope1_g2_f32"};

    private Mamba3Run() {
    }

    static int[] tokens(Path dir) {
        try {
            return Arrays.stream(Files.readString(dir.resolve("tokens.txt")).trim().split("\\s+"))
                    .mapToInt(Integer::parseInt).toArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Network build(TensorSource source, Kernels kernels, Parallel par) {
        return new Mamba3Architecture().build(source, new BuildContext(kernels, par));
    }

    /** Logits of every position, feeding the tokens in calls of at most {@code batch} tokens. */
    static float[][] logits(Network net, Network.State st, int[] tokens, int batch) {
        return PositionLogits.of(net, st, tokens, batch);
    }

    static float[][] logits(Network net, int[] tokens, int batch) {
        return logits(net, net.newState(new SessionLimits(batch, 4096)), tokens, batch);
    }

    static double maxDiff(float[][] a, float[][] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                d = Math.max(d, Math.abs((double) a[i][j] - b[i][j]));
            }
        }
        return d;
    }

    /** A copy of {@code q} at {@code p} with every tensor stored as F32 holding its exact (dequantized) values. */
    static GgufFile dequantized(GgufFile q, Path p) {
        GgufWriter w = new GgufWriter();
        for (GgufKv kv : q.kvs()) {
            w.put(kv.key(), kv.type(), kv.value());
        }
        for (String name : q.names()) {
            Tensor t = q.get(name);
            w.addF32(name, t.shape(), Weights.toFloats(t));
        }
        w.write(p);
        return GgufFile.open(p);
    }
}
