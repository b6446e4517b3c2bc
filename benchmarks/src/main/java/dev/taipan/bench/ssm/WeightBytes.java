package dev.taipan.bench.ssm;

import dev.taipan.loaders.TensorSource;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.tensor.Tensor;

/**
 * Bytes of weights one decoded token reads, the numerator of the effective bandwidth: every
 * tensor once, routed experts ({@code *_exps.weight}) scaled by used / total (the average over
 * tokens), and one row of the embeddings when the head is not tied to them. Caches (KV, SSM state)
 * are not counted. The same rule as {@code taipan bench}.
 */
final class WeightBytes {
    private WeightBytes() {
    }

    static long perToken(Model m) {
        TensorSource src = m.source();
        String arch = m.architecture();
        int nExpert = src.metadata().getInt(MetaKey.EXPERT_COUNT.key(arch), 0);
        int nUsed = src.metadata().getInt(MetaKey.EXPERT_USED_COUNT.key(arch), 0);
        boolean tied = src.find("output.weight").isEmpty();
        long sum = 0;
        for (String name : src.names()) {
            Tensor t = src.find(name).orElseThrow();
            long bytes = t.data().byteSize();
            if (name.endsWith("_exps.weight") && nExpert > 0) {
                bytes = bytes / nExpert * nUsed;
            } else if (name.equals("token_embd.weight") && !tied) {
                bytes = t.rowBytes();
            }
            sum += bytes;
        }
        return sum;
    }

    /** Bytes of all weights (the file's tensor data). */
    static long total(Model m) {
        TensorSource src = m.source();
        long sum = 0;
        for (String name : src.names()) {
            sum += src.find(name).orElseThrow().data().byteSize();
        }
        return sum;
    }
}
