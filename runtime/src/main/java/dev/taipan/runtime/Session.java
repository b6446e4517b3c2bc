package dev.taipan.runtime;

import dev.taipan.loaders.tokenizer.EncodeOptions;
import dev.taipan.loaders.tokenizer.StreamingDecoder;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.moe.MoeState;
import dev.taipan.moe.SparseMoe;
import dev.taipan.runtime.arch.Network;
import dev.taipan.runtime.sampling.Sampler;
import dev.taipan.runtime.sampling.TokenHistory;
import dev.taipan.tensor.SessionLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * One conversation with a model. It owns the per-layer caches (KV caches for attention layers,
 * SSM states for recurrent ones), the activation buffers and the sampler. A session is used by
 * one thread at a time; {@link #cancel()} alone may be called from another thread.
 *
 * <p>Prefill runs in batches of up to {@code maxBatch} tokens; decode runs one token at a time.
 * Successive {@link #generate} calls continue the same context, so a multi-turn chat never
 * re-prefills earlier turns. The last sampled token is fed at the start of the next call.
 */
public final class Session {
    private final Model model;
    private final Network network;
    private final Network.State state;
    private final float[] lastLogits; // (vocab) logits after the last token fed
    private final int[] history;      // every token in the context, in order (for penalties)
    private final int[] one = new int[1];
    private Sampling sampling;
    private Sampler sampler;
    private int pendingToken = -1;    // sampled, streamed, not yet fed
    private volatile boolean cancelled;

    Session(Model model, Sampling sampling, SessionLimits limits) {
        this.model = model;
        this.network = model.network();
        this.state = network.newState(limits);
        this.lastLogits = new float[network.vocabSize()];
        this.history = new int[limits.contextLength()];
        setSampling(sampling);
    }

    public Model model() {
        return model;
    }

    public Sampling sampling() {
        return sampling;
    }

    /** Replaces the sampling settings (and restarts the random generator from their seed). */
    public void setSampling(Sampling newSampling) {
        this.sampling = newSampling;
        this.sampler = new Sampler(newSampling, network.vocabSize());
    }

    /** Tokens in the context so far, including a sampled token not yet fed. */
    public int position() {
        return state.position() + (pendingToken >= 0 ? 1 : 0);
    }

    public SessionLimits limits() {
        return state.limits();
    }

    /** Bytes held by the session's caches (KV and SSM state). */
    public long cacheBytes() {
        return state.cacheBytes();
    }

    /** The network state (per-layer block states), e.g. to read MoE routing statistics. */
    public Network.State state() {
        return state;
    }

    /**
     * The token sampled last and not yet fed: the end-of-generation token that stopped a
     * {@link #generate}, or the last token of one that reached its limit. The next call feeds it
     * first. Empty when every token is fed.
     */
    public OptionalInt pendingToken() {
        return pendingToken >= 0 ? OptionalInt.of(pendingToken) : OptionalInt.empty();
    }

    /** Expert-routing counts of the MoE layers since the last {@link #resetRoutingStats()}. */
    public RoutingStats routingStats() {
        List<RoutingStats.Layer> layers = new ArrayList<>();
        for (int l = 0; l < network.layers().size(); l++) {
            if (state.ffnState(l) instanceof MoeState moe && network.layers().get(l).ffn() instanceof SparseMoe block) {
                layers.add(new RoutingStats.Layer(l, moe.expertCounts(), moe.routedTokens(),
                        block.config().nExpertUsed()));
            }
        }
        return new RoutingStats(layers);
    }

    /** Clears the MoE routing counts (they are also cleared by {@link #reset()}). */
    public void resetRoutingStats() {
        for (int l = 0; l < network.layers().size(); l++) {
            if (state.ffnState(l) instanceof MoeState moe) {
                moe.resetStats();
            }
        }
    }

    /** Forgets every token: the session is as new. */
    public void reset() {
        state.reset();
        pendingToken = -1;
    }

    /** Asks a running {@link #generate} to stop after the current token (any thread). */
    public void cancel() {
        cancelled = true;
    }

    /**
     * Feeds {@code tokens} and returns the logits at every one of their positions,
     * {@code [tokens.length][vocab]}.
     *
     * @throws IllegalArgumentException for a token id outside the vocabulary
     * @throws IllegalStateException when the tokens do not fit the context
     */
    public float[][] logits(int[] tokens) {
        flushPending();
        checkFits(tokens.length);
        int vocab = network.vocabSize();
        int maxBatch = state.limits().maxBatch();
        float[][] out = new float[tokens.length][vocab];
        float[] rows = new float[Math.min(tokens.length, maxBatch) * vocab];
        for (int off = 0; off < tokens.length; off += maxBatch) {
            int n = Math.min(maxBatch, tokens.length - off);
            feed(tokens, off, n);
            network.logits(state, 0, n, rows, 0);
            for (int t = 0; t < n; t++) {
                System.arraycopy(rows, t * vocab, out[off + t], 0, vocab);
            }
        }
        if (tokens.length > 0) {
            System.arraycopy(out[tokens.length - 1], 0, lastLogits, 0, vocab);
        }
        return out;
    }

    /**
     * Feeds {@code tokens} in batches and returns the logits after the last one (a view that the
     * next call overwrites).
     */
    public float[] prefill(int[] tokens) {
        flushPending();
        return prefillChecked(tokens);
    }

    /** Feeds one token and returns the logits after it (a view the next call overwrites). */
    public float[] decode(int token) {
        return prefill(new int[] {token});
    }

    /** Logits after the last token fed (a view). */
    public float[] lastLogits() {
        return lastLogits;
    }

    /**
     * Encodes {@code prompt} (with BOS when the context is empty and the tokenizer adds one),
     * feeds it, and samples up to {@code maxTokens} tokens, streaming their text to
     * {@code onPiece} (never a partial UTF-8 character). Stops at end-of-generation tokens.
     *
     * @throws IllegalStateException when the model has no tokenizer or the prompt overflows the context
     */
    public GenerationStats generate(String prompt, int maxTokens, Consumer<String> onPiece) {
        Tokenizer tok = model.tokenizer().orElseThrow(() ->
                new IllegalStateException("model has no tokenizer: use generateTokens with token ids"));
        int[] ids = tok.encode(prompt, position() == 0 ? EncodeOptions.DEFAULT : EncodeOptions.NO_BOS);
        StreamingDecoder decoder = tok.streamingDecoder();
        GenerationStats stats = generateTokens(ids, maxTokens, id -> {
            String piece = decoder.push(id);
            if (!piece.isEmpty()) {
                onPiece.accept(piece);
            }
        });
        String rest = decoder.flush();
        if (!rest.isEmpty()) {
            onPiece.accept(rest);
        }
        return stats;
    }

    /**
     * Feeds {@code promptIds} and samples up to {@code maxTokens} tokens, giving each to
     * {@code onToken}. End-of-generation tokens (when the model has a tokenizer) stop it and are
     * not given.
     */
    public GenerationStats generateTokens(int[] promptIds, int maxTokens, IntConsumer onToken) {
        cancelled = false;
        int[] prompt = withPending(promptIds);
        pendingToken = -1;
        if (prompt.length == 0 && state.position() == 0) {
            throw new IllegalArgumentException("generation needs a prompt: the session is empty");
        }
        long t0 = System.nanoTime();
        float[] logits = prompt.length > 0 ? prefillChecked(prompt) : lastLogits;
        long t1 = System.nanoTime();
        int generated = 0;
        GenerationStats.StopReason stop = GenerationStats.StopReason.MAX_TOKENS;
        Tokenizer tok = model.tokenizer().orElse(null);
        while (generated < maxTokens) {
            if (cancelled) {
                stop = GenerationStats.StopReason.CANCELLED;
                break;
            }
            int next = sampler.sample(logits, 0, new TokenHistory(history, state.position()));
            if (tok != null && tok.isEog(next)) {
                pendingToken = next;
                stop = GenerationStats.StopReason.END_OF_TEXT;
                break;
            }
            generated++;
            onToken.accept(next);
            if (state.position() >= state.limits().contextLength()) {
                stop = GenerationStats.StopReason.CONTEXT_FULL;
                break;
            }
            if (generated == maxTokens) {
                pendingToken = next;
                break;
            }
            one[0] = next;
            logits = prefillChecked(one);
        }
        long t2 = System.nanoTime();
        return new GenerationStats(prompt.length, t1 - t0, generated, t2 - t1, stop);
    }

    private float[] prefillChecked(int[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("prefill needs at least one token");
        }
        checkFits(tokens.length);
        int maxBatch = state.limits().maxBatch();
        for (int off = 0; off < tokens.length; off += maxBatch) {
            int n = Math.min(maxBatch, tokens.length - off);
            feed(tokens, off, n);
            if (off + n == tokens.length) {
                network.logits(state, n - 1, 1, lastLogits, 0);
            }
        }
        return lastLogits;
    }

    private void feed(int[] tokens, int off, int n) {
        int pos = state.position();
        network.forward(tokens, off, n, state);
        System.arraycopy(tokens, off, history, pos, n);
    }

    private void checkFits(int n) {
        int ctx = state.limits().contextLength();
        if (state.position() + n > ctx) {
            throw new IllegalStateException("context length " + ctx + " exceeded: " + state.position()
                    + " tokens in the session, " + n + " more requested");
        }
    }

    private void flushPending() {
        if (pendingToken >= 0) {
            int t = pendingToken;
            pendingToken = -1;
            one[0] = t;
            prefillChecked(one);
        }
    }

    private int[] withPending(int[] ids) {
        if (pendingToken < 0) {
            return ids;
        }
        int[] all = new int[ids.length + 1];
        all[0] = pendingToken;
        System.arraycopy(ids, 0, all, 1, ids.length);
        return all;
    }

    @Override
    public String toString() {
        return "Session[" + model.architecture() + ", " + position() + "/" + state.limits().contextLength()
                + " tokens, sampling " + sampling + "]";
    }
}
