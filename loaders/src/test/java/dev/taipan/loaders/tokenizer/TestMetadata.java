package dev.taipan.loaders.tokenizer;

import dev.taipan.loaders.Metadata;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Hand-built tokenizer metadata with the value types a GGUF reader produces (Long, Float, Boolean, String, List). */
final class TestMetadata implements Metadata {
    private final Map<String, Object> values = new LinkedHashMap<>();

    TestMetadata put(String key, Object value) {
        values.put(key, value);
        return this;
    }

    TestMetadata remove(String key) {
        values.remove(key);
        return this;
    }

    /** A SentencePiece vocabulary: tokens with scores, type NORMAL unless listed in {@code types}. */
    static TestMetadata spm(List<String> tokens, List<Float> scores, List<Long> types) {
        return new TestMetadata()
                .put("tokenizer.ggml.model", "llama")
                .put("tokenizer.ggml.tokens", tokens)
                .put("tokenizer.ggml.scores", scores)
                .put("tokenizer.ggml.token_type", types);
    }

    @Override
    public String origin() {
        return "test-metadata";
    }

    @Override
    public Set<String> keys() {
        return values.keySet();
    }

    @Override
    public Optional<Object> raw(String key) {
        return Optional.ofNullable(values.get(key));
    }
}
