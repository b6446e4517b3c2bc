package dev.taipan.runtime.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reference logits in the fixtures' format ({@code #} comment lines, then
 * {@code pos token logit_0 … logit_{V-1}} per position; or, for the Mamba-3 fixtures, logits only)
 * and the comparisons of ../shared/fixtures/README.md ("Tolerances we expect"), the same rules as
 * its check_logits.py.
 */
public final class ReferenceLogits {
    private final Path file;
    private final int[] tokens;
    private final float[][] logits; // (positions, vocab)

    private ReferenceLogits(Path file, int[] tokens, float[][] logits) {
        this.file = file;
        this.tokens = tokens;
        this.logits = logits;
    }

    /** Reads a {@code pos token logits…} file. */
    public static ReferenceLogits read(Path file) {
        return parse(file, 2);
    }

    /** Reads a file of bare logit rows (Mamba-3 fixtures); tokens come from elsewhere. */
    public static ReferenceLogits readBare(Path file) {
        return parse(file, 0);
    }

    private static ReferenceLogits parse(Path file, int skip) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<float[]> rows = new ArrayList<>();
        List<Integer> toks = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            if (skip == 2) {
                assertEquals(rows.size(), Integer.parseInt(f[0]), file + ": positions out of order");
                toks.add(Integer.parseInt(f[1]));
            }
            float[] row = new float[f.length - skip];
            for (int i = 0; i < row.length; i++) {
                row[i] = Float.parseFloat(f[skip + i]);
            }
            rows.add(row);
        }
        return new ReferenceLogits(file, toks.stream().mapToInt(Integer::intValue).toArray(),
                rows.toArray(new float[0][]));
    }

    public int[] tokens() {
        return tokens.clone();
    }

    public float[][] logits() {
        return logits;
    }

    /**
     * F32 rule: at every position max|diff| <= tolRel * max(1, max|ref|), and the same argmax
     * unless the reference's top two are closer than twice the observed difference.
     */
    public void assertMatchesF32(float[][] actual, double tolRel) {
        assertEquals(logits.length, actual.length, file + ": number of positions");
        for (int p = 0; p < logits.length; p++) {
            float[] ref = logits[p];
            float[] got = actual[p];
            assertEquals(ref.length, got.length, file + ": vocab size at position " + p);
            double maxAbs = 0;
            double diff = 0;
            for (int i = 0; i < ref.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
                diff = Math.max(diff, Math.abs((double) ref[i] - got[i]));
            }
            double allowed = tolRel * Math.max(1, maxAbs);
            if (!(diff <= allowed)) {
                fail(file.getFileName() + ": position " + p + " max|diff| " + diff + " > " + allowed);
            }
            checkArgmax(p, ref, got, diff);
        }
    }

    /** Absolute rule (Mamba-3 fixtures): max|diff| <= tolAbs at every position, and same argmax. */
    public void assertMatchesAbs(float[][] actual, double tolAbs) {
        assertEquals(logits.length, actual.length, file + ": number of positions");
        for (int p = 0; p < logits.length; p++) {
            double diff = 0;
            for (int i = 0; i < logits[p].length; i++) {
                diff = Math.max(diff, Math.abs((double) logits[p][i] - actual[p][i]));
            }
            if (!(diff <= tolAbs)) {
                fail(file.getFileName() + ": position " + p + " max|diff| " + diff + " > " + tolAbs);
            }
            checkArgmax(p, logits[p], actual[p], diff);
        }
    }

    private void checkArgmax(int p, float[] ref, float[] got, double diff) {
        int a = argmax(ref);
        int b = argmax(got);
        if (a != b) {
            float gap = ref[a] - secondLargest(ref, a);
            if (gap > 2 * diff) {
                fail(file.getFileName() + ": position " + p + " argmax " + b + ", reference " + a);
            }
        }
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    private static float secondLargest(float[] x, int skip) {
        float best = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < x.length; i++) {
            if (i != skip && x[i] > best) {
                best = x[i];
            }
        }
        return best;
    }
}
