package dev.taipan.runtime.testing;

import dev.taipan.runtime.arch.Network;

/**
 * The logits of every position of a token run, the quantity the fixture tests compare with the
 * reference dumps (llama.cpp {@code llama_get_logits_ith} per position, or the FLA/PyTorch
 * reference of the Mamba-3 fixtures): tokens go in {@code batch} at a time, so one prefill call,
 * one token per call, or chunks in between.
 */
public final class PositionLogits {

    private PositionLogits() {
    }

    /**
     * Logits (positions, vocab) after each of {@code tokens}, continuing from state {@code st},
     * fed in forward calls of at most {@code batch} tokens.
     */
    public static float[][] of(Network net, Network.State st, int[] tokens, int batch) {
        int vocab = net.vocabSize();
        float[][] out = new float[tokens.length][vocab];
        float[] buf = new float[batch * vocab];
        for (int t = 0; t < tokens.length; t += batch) {
            int n = Math.min(batch, tokens.length - t);
            net.forward(tokens, t, n, st);
            net.logits(st, 0, n, buf, 0);
            for (int i = 0; i < n; i++) {
                System.arraycopy(buf, i * vocab, out[t + i], 0, vocab);
            }
        }
        return out;
    }
}
