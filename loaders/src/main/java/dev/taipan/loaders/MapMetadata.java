package dev.taipan.loaders;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link Metadata} over a map of raw values (already converted to the types the interface names),
 * keeping the insertion order of the keys.
 */
public final class MapMetadata implements Metadata {
    private final String origin;
    private final Map<String, Object> values;

    public MapMetadata(String origin, Map<String, ?> values) {
        this.origin = origin;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    @Override
    public String origin() {
        return origin;
    }

    /** Keys in file order. */
    @Override
    public Set<String> keys() {
        return values.keySet();
    }

    @Override
    public Optional<Object> raw(String key) {
        return Optional.ofNullable(values.get(key));
    }

    @Override
    public String toString() {
        return origin + " metadata " + values.keySet();
    }
}
