package dev.taipan.examples.chat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The model shipped in the examples' resources, so the REPL runs offline on a fresh clone:
 * stories260K (karpathy/tinyllamas, MIT; GGUF conversion by ggml-org), a 260K-parameter llama
 * trained on TinyStories. It is a base model without a chat template: it continues stories.
 */
public final class BundledModel {
    /** Resource path of the bundled GGUF. */
    public static final String RESOURCE = "/models/stories260K.gguf";

    private BundledModel() {
    }

    /**
     * A file path of the bundled model: the resource itself when the classes are a directory
     * ({@code mvn exec:java}), else a temporary copy (running from a jar), deleted on exit.
     */
    public static Path path() {
        URL url = BundledModel.class.getResource(RESOURCE);
        if (url == null) {
            throw new IllegalStateException("the bundled model " + RESOURCE + " is missing from the classpath");
        }
        try {
            if (url.getProtocol().equals("file")) {
                return Path.of(url.toURI());
            }
            Path dir = Files.createTempDirectory("taipan-bundled");
            dir.toFile().deleteOnExit();
            Path copy = dir.resolve(RESOURCE.substring(RESOURCE.lastIndexOf('/') + 1));
            copy.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) {
                Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
            }
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the bundled model " + RESOURCE, e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("bad URL of the bundled model: " + url, e);
        }
    }
}
