package dev.taipan.runtime.arch.ssm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.ModelFormatException;
import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.runtime.arch.ArchitectureRegistry;
import dev.taipan.runtime.arch.BuildContext;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.Network;
import dev.taipan.ssm.mamba1.Mamba1Mixer;
import dev.taipan.ssm.mamba1.Mamba1Weights;
import dev.taipan.tensor.Kernels;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Shape;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Plain {@code mamba} (Mamba-1) files have no llama.cpp fixture here (the Mamba-1 math is checked
 * end to end by tiny-jamba): a small random file is built as GGUF and checked for layer kinds,
 * the tied lm head, FalconMamba's {@code ssm.dt_b_c_rms}, prefill against decoding and a fixed
 * cache; plus load errors naming the key or tensor, and the registry entries of the SSM families.
 */
class MambaArchitectureTest {
    private static final int DIM = 16;
    private static final int D_INNER = 32;
    private static final int D_STATE = 8;
    private static final int DT_RANK = 2;
    private static final int VOCAB = 30;
    private static final int[] TOKENS = {1, 2, 29, 7, 7, 0, 13, 21};

    static GgufFile mamba(int nLayers, boolean dtBcRms, String skip, int convKernel) {
        Random r = new Random(5);
        GgufWriter g = new GgufWriter();
        String a = "mamba";
        g.putString("general.architecture", a);
        g.putUInt32(a + ".embedding_length", DIM);
        g.putUInt32(a + ".block_count", nLayers);
        g.putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        g.putUInt32(a + ".ssm.conv_kernel", convKernel);
        g.putUInt32(a + ".ssm.inner_size", D_INNER);
        g.putUInt32(a + ".ssm.state_size", D_STATE);
        g.putUInt32(a + ".ssm.time_step_rank", DT_RANK);
        if (dtBcRms) {
            g.putBool(a + ".ssm.dt_b_c_rms", true);
        }
        add(g, r, skip, "token_embd.weight", 1, DIM, VOCAB);
        add(g, r, skip, "output_norm.weight", 0.1, DIM);
        for (int l = 0; l < nLayers; l++) {
            String p = "blk." + l + ".";
            add(g, r, skip, p + "attn_norm.weight", 0.1, DIM);
            add(g, r, skip, p + "ssm_in.weight", 1 / Math.sqrt(DIM), DIM, 2 * D_INNER);
            add(g, r, skip, p + "ssm_conv1d.weight", 0.5, 4, D_INNER);
            add(g, r, skip, p + "ssm_conv1d.bias", 0.1, D_INNER);
            add(g, r, skip, p + "ssm_x.weight", 1 / Math.sqrt(D_INNER), D_INNER, DT_RANK + 2 * D_STATE);
            add(g, r, skip, p + "ssm_dt.weight", 0.5, DT_RANK, D_INNER);
            add(g, r, skip, p + "ssm_dt.bias", 0.5, D_INNER);
            float[] aNeg = new float[D_INNER * D_STATE];
            for (int i = 0; i < aNeg.length; i++) {
                aNeg[i] = (float) -Math.exp(r.nextGaussian() * 0.5);
            }
            g.addF32(p + "ssm_a", Shape.fromGgml(D_STATE, D_INNER), aNeg);
            add(g, r, skip, p + "ssm_d", 1, D_INNER);
            add(g, r, skip, p + "ssm_out.weight", 1 / Math.sqrt(D_INNER), D_INNER, DIM);
        }
        return GgufFile.of("synthetic-mamba.gguf", MemorySegment.ofArray(g.toBytes()));
    }

    // norm weights are 1 + scale * N(0, 1); others scale * N(0, 1)
    private static void add(GgufWriter g, Random r, String skip, String name, double scale, long... ne) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        float[] v = new float[(int) n];
        boolean norm = name.contains("norm");
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((norm ? 1 : 0) + r.nextGaussian() * scale);
        }
        if (!name.equals(skip)) {
            g.addF32(name, Shape.fromGgml(ne), v);
        }
    }

    private static Network build(GgufFile f, Parallel par) {
        return new MambaArchitecture().build(f, new BuildContext(Kernels.vector(), par));
    }

    @Test
    void plainMambaRunsTiedAndPrefillEqualsStep() {
        try (GgufFile f = mamba(2, false, null, 4); Parallel par = Parallel.create(2)) {
            Network net = build(f, par);
            assertEquals(2, net.layers().size());
            for (var layer : net.layers()) {
                assertEquals(new LayerKind(LayerKind.Mixer.MAMBA1, LayerKind.Ffn.NONE), layer.kind());
                assertEquals(null, ((Mamba1Mixer) layer.mixer()).weights().norms());
            }
            assertSame(net.head().tokenEmbd(), net.head().output(), "no output.weight: tied to token_embd");
            float[][] batch = FixtureRun.logits(net, TOKENS, TOKENS.length);
            float[][] step = FixtureRun.logits(net, TOKENS, 1);
            for (int p = 0; p < TOKENS.length; p++) {
                for (int v = 0; v < VOCAB; v++) {
                    assertEquals(batch[p][v], step[p][v], 1e-5 * Math.max(1, Math.abs(batch[p][v])));
                }
            }
            Network.State st = net.newState(new SessionLimits(4, 2000));
            net.forward(TOKENS, 0, 4, st);
            long cache = st.cacheBytes();
            assertEquals(2L * 4 * (D_INNER * 3 + D_INNER * D_STATE), cache);
            for (int t = 4; t < 1000; t += 4) {
                net.forward(TOKENS, 4, 4, st);
            }
            assertEquals(cache, st.cacheBytes());
        }
    }

    @Test
    void dtBcRmsFlagGivesUnweightedNorms() {
        try (GgufFile plain = mamba(1, false, null, 4); GgufFile rms = mamba(1, true, null, 4);
             Parallel par = Parallel.create(1)) {
            Mamba1Mixer m = (Mamba1Mixer) build(rms, par).layers().get(0).mixer();
            assertSame(Mamba1Weights.Norms.UNWEIGHTED, m.weights().norms());
            float[][] a = FixtureRun.logits(build(plain, par), TOKENS, 8);
            float[][] b = FixtureRun.logits(build(rms, par), TOKENS, 8);
            double diff = 0;
            for (int v = 0; v < VOCAB; v++) {
                diff = Math.max(diff, Math.abs(a[7][v] - b[7][v]));
            }
            assertTrue(diff > 1e-3, "the norms change the output");
        }
    }

    @Test
    void missingTensorIsNamed() {
        try (GgufFile f = mamba(2, false, "blk.1.ssm_x.weight", 4); Parallel par = Parallel.create(1)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> build(f, par));
            assertTrue(e.getMessage().contains("missing tensor 'blk.1.ssm_x.weight'"), e.getMessage());
        }
    }

    @Test
    void badMetadataIsNamed() {
        try (GgufFile f = mamba(1, false, null, 1); Parallel par = Parallel.create(1)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> build(f, par));
            assertTrue(e.getMessage().contains("ssm.") && e.getMessage().contains("dConv=1"), e.getMessage());
        }
    }

    @Test
    void misshapedTensorIsNamed() {
        // conv_kernel 3 in the metadata, 4 in the file
        try (GgufFile f = mamba(1, false, null, 3); Parallel par = Parallel.create(1)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> build(f, par));
            assertTrue(e.getMessage().contains("blk.0.ssm_conv1d.weight"), e.getMessage());
        }
    }

    @Test
    void familiesAreRegistered() {
        for (String name : Set.of("mamba", "mamba2", "jamba", "granitehybrid", "nemotron_h", "falcon-h1")) {
            assertTrue(ArchitectureRegistry.names().contains(name), name);
            assertTrue(ArchitectureRegistry.get(name, "test").names().contains(name), name);
        }
    }
}
