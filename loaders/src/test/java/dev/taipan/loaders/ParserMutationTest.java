package dev.taipan.loaders;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A bounded, seeded random-mutation run of the fuzz property ({@link FuzzTargets}) in every test
 * run: each Jazzer seed input is mutated many times (bit flips, interesting integers written over
 * 1/2/4/8 bytes, insertions, deletions, truncations, copied chunks) and every result must either
 * parse or throw {@link ModelFormatException}. Complements the coverage-guided Jazzer run, which
 * only replays the seeds unless JAZZER_FUZZ is set.
 */
class ParserMutationTest {
    private static final int MUTANTS_PER_SEED = 1500;
    private static final long[] INTERESTING = {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 16, 31, 32, 33, 64, 127, 128, 255, 256,
        0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 1L << 32, 1L << 40, Long.MAX_VALUE,
        Long.MIN_VALUE, -1, -2};

    private static List<byte[]> seeds(String dir) {
        try (Stream<Path> files = Files.list(Resources.path(dir))) {
            return files.sorted().map(p -> {
                try {
                    return Files.readAllBytes(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void ggufMutantsParseOrAreRefused() {
        run(seeds("dev/taipan/loaders/gguf/GgufFuzzTestInputs/parse"), FuzzTargets::gguf, 1234);
    }

    @Test
    void safetensorsMutantsParseOrAreRefused() {
        run(seeds("dev/taipan/loaders/safetensors/SafetensorsFuzzTestInputs/parse"), FuzzTargets::safetensors, 5678);
    }

    private static void run(List<byte[]> seeds, Consumer<byte[]> target, long seed) {
        Random rnd = new Random(seed);
        for (byte[] s : seeds) {
            byte[] current = s;
            for (int i = 0; i < MUTANTS_PER_SEED; i++) {
                // mostly mutate the seed, sometimes stack mutations
                byte[] base = rnd.nextInt(4) == 0 ? current : s;
                byte[] m = mutate(base, rnd);
                try {
                    target.accept(m);
                } catch (RuntimeException | Error e) {
                    throw new AssertionError("mutant " + i + " of a " + s.length + "-byte seed (random seed " + seed
                            + "): " + e + "\nbytes: " + Arrays.toString(Arrays.copyOf(m, Math.min(m.length, 256))), e);
                }
                current = m;
            }
        }
    }

    static byte[] mutate(byte[] in, Random rnd) {
        if (in.length == 0) {
            return new byte[] {(byte) rnd.nextInt(256)};
        }
        byte[] b = in.clone();
        int at = rnd.nextInt(b.length);
        switch (rnd.nextInt(7)) {
            case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
            case 1 -> b[at] = (byte) rnd.nextInt(256);
            case 2 -> {
                int width = new int[] {1, 2, 4, 8}[rnd.nextInt(4)];
                long v = INTERESTING[rnd.nextInt(INTERESTING.length)];
                for (int k = 0; k < width && at + k < b.length; k++) {
                    b[at + k] = (byte) (v >>> (8 * k));
                }
            }
            case 3 -> b = Arrays.copyOf(b, at);
            case 4 -> {
                int len = 1 + rnd.nextInt(Math.min(16, b.length - at));
                byte[] out = new byte[b.length - len];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + len, out, at, b.length - at - len);
                b = out;
            }
            case 5 -> {
                int len = 1 + rnd.nextInt(16);
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, at);
                for (int k = 0; k < len; k++) {
                    out[at + k] = (byte) rnd.nextInt(256);
                }
                System.arraycopy(b, at, out, at + len, b.length - at);
                b = out;
            }
            default -> {
                int from = rnd.nextInt(b.length);
                int len = 1 + rnd.nextInt(Math.min(32, Math.min(b.length - from, b.length - at)));
                System.arraycopy(in, from, b, at, len);
            }
        }
        return b;
    }
}
