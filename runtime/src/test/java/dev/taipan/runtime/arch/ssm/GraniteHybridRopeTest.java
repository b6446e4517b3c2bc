package dev.taipan.runtime.arch.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.attention.Attention;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufKv;
import dev.taipan.loaders.gguf.GgufTensorInfo;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.testing.ReferenceLogits;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.Rope;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Granite switches RoPE with {@code rope.scaling.finetuned} (default true; the fixture sets it
 * false). The fixture rewritten with the key true must rotate its attention layer's q and k
 * (NORMAL layout, base 1e4): the logits stay those of llama.cpp at position 0, where the rotation
 * is the identity, move away from them afterwards, and prefill still equals decoding.
 */
class GraniteHybridRopeTest {

    /** tiny-granitehybrid-f32 with {@code rope.scaling.finetuned} set to {@code rope}, in memory. */
    static GgufFile withRope(boolean rope) {
        GgufWriter g = new GgufWriter();
        try (GgufFile f = GgufFile.open(FixtureRun.fixture("tiny-granitehybrid-f32.gguf"))) {
            for (GgufKv kv : f.kvs()) {
                if (kv.key().equals("granitehybrid.rope.scaling.finetuned")) {
                    g.putBool(kv.key(), rope);
                } else if (!kv.key().startsWith("GGUF.")) {
                    g.put(kv.key(), kv.type(), kv.value());
                }
            }
            for (GgufTensorInfo t : f.tensorInfos()) {
                byte[] copy = f.tensorData(t.name()).orElseThrow().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                g.addTensor(t.name(), t.type(), t.shape(), copy);
            }
        }
        return GgufFile.of("tiny-granitehybrid-rope.gguf", MemorySegment.ofArray(g.toBytes()));
    }

    @Test
    void ropeFollowsTheFinetunedKey() {
        ReferenceLogits ref = ReferenceLogits.read(FixtureRun.fixture("tiny-granitehybrid-f32.logits.txt"));
        int[] tokens = ref.tokens();
        try (GgufFile off = withRope(false); GgufFile on = withRope(true); Parallel par = Parallel.create(2)) {
            BuildContext ctx = new BuildContext(Kernels.vector(), par);
            Network plain = new GraniteHybridArchitecture().build(off, ctx);
            assertNull(((Attention) plain.layers().get(1).mixer()).config().rope());
            ref.assertMatchesF32(FixtureRun.logits(plain, tokens, tokens.length), FixtureRun.TOL);

            Network roped = new GraniteHybridArchitecture().build(on, ctx);
            Rope rope = ((Attention) roped.layers().get(1).mixer()).config().rope();
            assertNotNull(rope);
            assertEquals(Rope.Layout.NORMAL, rope.layout());
            assertEquals(10000f, rope.base());
            float[][] batch = FixtureRun.logits(roped, tokens, tokens.length);
            float[][] step = FixtureRun.logits(roped, tokens, 1);
            for (int p = 0; p < tokens.length; p++) {
                double diffRef = 0;
                for (int v = 0; v < batch[p].length; v++) {
                    assertEquals(batch[p][v], step[p][v], 1e-5 * Math.max(1, Math.abs(batch[p][v])), "pos " + p);
                    diffRef = Math.max(diffRef, Math.abs(batch[p][v] - ref.logits()[p][v]));
                }
                if (p == 0) {
                    assertTrue(diffRef < 1e-4, "position 0 is not rotated: " + diffRef);
                } else {
                    assertTrue(diffRef > 1e-3, "position " + p + " must be rotated: " + diffRef);
                }
            }
        }
    }
}
