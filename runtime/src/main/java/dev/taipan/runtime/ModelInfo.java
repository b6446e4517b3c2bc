package dev.taipan.runtime;

import dev.taipan.loaders.Metadata;
import dev.taipan.loaders.TensorSource;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.moe.MoeWeights;
import dev.taipan.moe.SparseMoe;
import dev.taipan.runtime.arch.DecoderLayer;
import dev.taipan.runtime.arch.LayerKind;
import dev.taipan.runtime.arch.MetaKey;
import dev.taipan.tensor.DType;
import dev.taipan.tensor.SessionLimits;
import dev.taipan.tensor.Tensor;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a loaded model is made of, as {@code taipan info} prints it (llama.cpp's
 * {@code llm_load_print_meta} and {@code llama_model_n_params} are the model): parameter counts,
 * the layer kinds, the storage types of the tensors, the tokenizer, the context length and the
 * memory a session needs.
 *
 * <p>Parameters are element counts of the tensors in the files (a copied lm head counts again).
 * Active parameters per token count only {@code nExpertUsed} of the {@code nExpert} routed experts
 * of every sparse MoE layer. Cache memory is measured on real session states of 1 and 2 tokens and
 * extended linearly (KV caches grow by one row per token, SSM states are fixed).
 *
 * @param architecture   {@code general.architecture} (or config.json {@code model_type})
 * @param name           {@code general.name}, or the file name
 * @param parameters     total and active-per-token parameter counts
 * @param layers         consecutive layers of one kind, in order
 * @param tensorTypes    storage types with their tensor counts, most parameters first
 * @param tokenizer      the tokenizer, when the model has one
 * @param context        trained and default context lengths
 * @param memory         mapped weight bytes and cache bytes per token
 */
public record ModelInfo(String architecture, String name, Parameters parameters, List<LayerRun> layers,
                        List<TypeCount> tensorTypes, Optional<TokenizerSummary> tokenizer, Context context,
                        Memory memory) {

    /**
     * @param total  every tensor's element count, summed
     * @param active parameters used for one token: routed experts count nExpertUsed / nExpert
     * @param moeLayers layers with a sparse MoE FFN
     */
    public record Parameters(long total, long active, int moeLayers) {
        public boolean isMoe() {
            return moeLayers > 0;
        }
    }

    /** Layers {@code [first, first + count)} all of {@code kind}. */
    public record LayerRun(int first, int count, LayerKind kind) {
    }

    /** {@code tensors} tensors of storage type {@code type}, holding {@code params} elements in {@code bytes}. */
    public record TypeCount(DType type, int tensors, long params, long bytes) {
    }

    /**
     * @param kind           SentencePiece or byte-level BPE
     * @param vocabSize      tokens in the vocabulary
     * @param bos            BOS token text, or empty
     * @param eos            EOS token text, or empty
     * @param hasChatTemplate whether the model carries {@code tokenizer.chat_template}
     */
    public record TokenizerSummary(Tokenizer.Kind kind, int vocabSize, String bos, String eos,
                                   boolean hasChatTemplate) {
    }

    /**
     * @param trained  {@code <arch>.context_length}, or 0 when the file does not say
     * @param session  tokens a session holds by default ({@link Model#contextLength()})
     */
    public record Context(int trained, int session) {
    }

    /**
     * @param weightBytes        bytes of every tensor (memory-mapped, paged in on use)
     * @param decodeCopyBytes    bytes of the Q8_0/Q4_0 matrices' decode copy that a default
     *                           ({@link LoadOptions.WeightLayout#REPACKED}) load makes, off the
     *                           Java heap; none with {@code MAPPED} ({@code --no-repack})
     * @param cacheBytesFixed    cache bytes that do not depend on the context (SSM states)
     * @param cacheBytesPerToken cache bytes added by each token of context (KV rows)
     */
    public record Memory(long weightBytes, long decodeCopyBytes, long cacheBytesFixed, long cacheBytesPerToken) {
        /** Bytes of the KV and SSM caches of one session of {@code contextLength} tokens. */
        public long cacheBytes(int contextLength) {
            return cacheBytesFixed + cacheBytesPerToken * contextLength;
        }

        /** Weights, their decode copy and one session's caches at {@code contextLength}. */
        public long totalBytes(int contextLength) {
            return weightBytes + decodeCopyBytes + cacheBytes(contextLength);
        }
    }

    /** Describes {@code model}; allocates two one-token session states to measure the caches. */
    public static ModelInfo of(Model model) {
        TensorSource source = model.source();
        Metadata meta = source.metadata();
        String arch = model.architecture();
        String nameKey = MetaKey.GENERAL_NAME.key("");
        String name = meta.has(nameKey) ? meta.getString(nameKey) : String.valueOf(source.path().getFileName());
        Map<DType, long[]> byType = new EnumMap<>(DType.class); // type -> {tensors, params, bytes}
        long total = 0;
        long weightBytes = 0;
        for (String tensorName : source.names()) {
            Tensor t = source.get(tensorName);
            long n = t.shape().elementCount();
            long bytes = t.type().byteSize(n);
            long[] c = byType.computeIfAbsent(t.type(), k -> new long[3]);
            c[0]++;
            c[1] += n;
            c[2] += bytes;
            total += n;
            weightBytes += bytes;
        }
        List<TypeCount> types = new ArrayList<>();
        byType.forEach((type, c) -> types.add(new TypeCount(type, (int) c[0], c[1], c[2])));
        types.sort((a, b) -> Long.compare(b.params(), a.params()));
        String ctxKey = MetaKey.CONTEXT_LENGTH.key(arch);
        int trained = meta.has(ctxKey) ? meta.getInt(ctxKey) : 0;
        return new ModelInfo(arch, name, parameters(model, total), layerRuns(model), List.copyOf(types),
                model.tokenizer().map(ModelInfo::summary), new Context(trained, model.contextLength()),
                memory(model, weightBytes));
    }

    private static Parameters parameters(Model model, long total) {
        long inactive = 0;
        int moeLayers = 0;
        for (DecoderLayer layer : model.network().layers()) {
            if (layer.ffn() instanceof SparseMoe moe) {
                moeLayers++;
                MoeWeights w = moe.weights();
                long routed = elements(w.gateExps()) + elements(w.upExps()) + elements(w.downExps());
                int used = moe.config().nExpertUsed();
                inactive += routed - routed / moe.nExpert() * used;
            }
        }
        return new Parameters(total, total - inactive, moeLayers);
    }

    private static long elements(Tensor t) {
        return t == null ? 0 : t.shape().elementCount();
    }

    private static List<LayerRun> layerRuns(Model model) {
        List<LayerRun> runs = new ArrayList<>();
        List<DecoderLayer> layers = model.network().layers();
        int first = 0;
        for (int l = 1; l <= layers.size(); l++) {
            if (l == layers.size() || !layers.get(l).kind().equals(layers.get(first).kind())) {
                runs.add(new LayerRun(first, l - first, layers.get(first).kind()));
                first = l;
            }
        }
        return List.copyOf(runs);
    }

    private static TokenizerSummary summary(Tokenizer tok) {
        return new TokenizerSummary(tok.kind(), tok.vocabSize(), tok.bos() >= 0 ? tok.tokenText(tok.bos()) : "",
                tok.eos() >= 0 ? tok.tokenText(tok.eos()) : "", tok.chatTemplate().isPresent());
    }

    private static Memory memory(Model model, long weightBytes) {
        long one = model.newSession(Sampling.greedy(), new SessionLimits(1, 1)).cacheBytes();
        long two = model.newSession(Sampling.greedy(), new SessionLimits(1, 2)).cacheBytes();
        long perToken = two - one;
        return new Memory(weightBytes, RepackSource.copyBytes(model.source()), one - perToken, perToken);
    }
}
