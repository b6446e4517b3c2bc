package dev.taipan.runtime;

import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.runtime.arch.Network;
import dev.taipan.tensor.Parallel;
import dev.taipan.tensor.SessionLimits;
import java.util.Optional;

/**
 * A loaded model: memory-mapped weights, the layer stack, its tokenizer and its worker pool.
 * Immutable and shared by threads; each thread talks to it through its own {@link Session}
 * (sessions of one model run one forward pass at a time each, over the model's one worker pool).
 * Closing the model releases the mapped files and the workers; its sessions must not be used
 * afterwards.
 */
public final class Model implements AutoCloseable {
    private final TensorSource source;
    private final Network network;
    private final Parallel parallel;
    private final Tokenizer tokenizer;
    private final SessionLimits defaultLimits;

    /** What a model is made of: its files, the stack built from them, and the tokenizer (nullable). */
    record Parts(TensorSource source, Network network, Tokenizer tokenizer) {
    }

    Model(Parts parts, Parallel parallel, SessionLimits defaultLimits) {
        this.source = parts.source();
        this.network = parts.network();
        this.tokenizer = parts.tokenizer();
        this.parallel = parallel;
        this.defaultLimits = defaultLimits;
    }

    /** Architecture name, e.g. {@code qwen3moe}. */
    public String architecture() {
        return network.archName();
    }

    public int vocabSize() {
        return network.vocabSize();
    }

    /** Tokens a session of this model holds by default. */
    public int contextLength() {
        return defaultLimits.contextLength();
    }

    /** The tokenizer read from the model's metadata, when it has one. */
    public Optional<Tokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    /** The weights and metadata this model was loaded from. */
    public TensorSource source() {
        return source;
    }

    /** The layer stack. */
    public Network network() {
        return network;
    }

    /**
     * Parameter counts, layer kinds, tensor types, tokenizer, context and memory of this model
     * (computed on each call; it allocates two one-token session states).
     */
    public ModelInfo info() {
        return ModelInfo.of(this);
    }

    /** Worker threads the model computes with. */
    public int threads() {
        return parallel.threads();
    }

    /** The model's worker pool (shared by its sessions), e.g. to record its passes ({@link Parallel#recordPasses}). */
    public Parallel parallel() {
        return parallel;
    }

    /** A new session with the context length and prefill batch of the load options. */
    public Session newSession(Sampling sampling) {
        return newSession(sampling, defaultLimits);
    }

    /** A new session with explicit limits. */
    public Session newSession(Sampling sampling, SessionLimits limits) {
        return new Session(this, sampling, limits);
    }

    @Override
    public void close() {
        parallel.close();
        source.close();
    }
}
