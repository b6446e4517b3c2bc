package dev.taipan.bench.ssm;

import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.tensor.DType;
import java.nio.file.Path;

/**
 * Writes a random dense {@code llama} GGUF with llama.cpp's keys and names (34af94cd
 * src/models/llama.cpp): GQA attention with RoPE NORMAL (base 10000), SwiGLU FFN, untied head.
 */
final class LlamaWriter {
    private static final String ARCH = "llama";

    private LlamaWriter() {
    }

    static void write(SsmSyntheticModels.Llama p, DType type, long seed, Path out) {
        GgufWriter w = new GgufWriter();
        RandomWeights rw = new RandomWeights(w, type, seed);
        SsmSyntheticModels.header(w, ARCH, p.name(), rw, p.vocab());
        String a = ARCH + ".";
        w.putUInt32(a + "context_length", 131072);
        w.putUInt32(a + "embedding_length", p.dim());
        w.putUInt32(a + "block_count", p.layers());
        w.putUInt32(a + "feed_forward_length", p.ff());
        w.putUInt32(a + "attention.head_count", p.nHeads());
        w.putUInt32(a + "attention.head_count_kv", p.nKvHeads());
        w.putFloat32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
        w.putFloat32(a + "rope.freq_base", 10000f);

        long dim = p.dim();
        long q = dim;
        long kv = dim / p.nHeads() * p.nKvHeads();
        rw.matrix("token_embd.weight", dim, p.vocab());
        rw.ones("output_norm.weight", dim);
        rw.matrix("output.weight", dim, p.vocab());
        for (int l = 0; l < p.layers(); l++) {
            String b = "blk." + l + ".";
            rw.ones(b + "attn_norm.weight", dim);
            rw.matrix(b + "attn_q.weight", dim, q);
            rw.matrix(b + "attn_k.weight", dim, kv);
            rw.matrix(b + "attn_v.weight", dim, kv);
            rw.matrix(b + "attn_output.weight", q, dim);
            rw.ones(b + "ffn_norm.weight", dim);
            rw.matrix(b + "ffn_gate.weight", dim, p.ff());
            rw.matrix(b + "ffn_up.weight", dim, p.ff());
            rw.matrix(b + "ffn_down.weight", p.ff(), dim);
        }
        w.write(out);
    }
}
