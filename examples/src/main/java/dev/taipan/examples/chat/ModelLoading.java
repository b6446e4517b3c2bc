package dev.taipan.examples.chat;

import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Taipan;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Loads a model with a progress bar on stderr: the weight files are first read once through the
 * page cache (what makes the first reply of a large memory-mapped model slow otherwise), with the
 * bar showing the bytes read, then {@link Taipan#load} maps and binds them. Without a terminal on
 * stderr there is no bar and no read-ahead.
 */
final class ModelLoading {
    private static final int CHUNK = 8 << 20;

    private ModelLoading() {
    }

    static Model load(Path path, LoadOptions options, PrintWriter err, boolean showProgress) {
        if (showProgress) {
            readAhead(weightFiles(path), err);
        }
        return Taipan.load(path, options);
    }

    private static List<Path> weightFiles(Path path) {
        if (!Files.isDirectory(path)) {
            return List.of(path);
        }
        try (Stream<Path> files = Files.list(path)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + path, e);
        }
    }

    private static void readAhead(List<Path> files, PrintWriter err) {
        long total = 0;
        for (Path f : files) {
            total += size(f);
        }
        ProgressBar bar = new ProgressBar(err, "loading model", total, ProgressBar.Unit.BYTES, true);
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        long done = 0;
        try {
            for (Path f : files) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    int n;
                    while ((n = ch.read(buffer.clear())) > 0) {
                        done += n;
                        bar.update(done);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + f, e);
                }
            }
        } finally {
            bar.finish();
        }
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + f, e);
        }
    }
}
