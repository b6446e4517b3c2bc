package dev.taipan.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.opencl.OpenClDevices;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The offload options of the CLI: {@code info --devices} lists what OpenCL reports (no model
 * needed), {@code logits --gpu-layers} gives llama.cpp's logits (on the device where there is one,
 * on the CPU with one log line where there is none), bad values are one-line errors.
 */
class OffloadCliTest {
    private static final Path FIXTURES = Path.of("src/test/resources/fixtures");

    private record Result(int status, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = TaipanCli.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void infoDevicesListsTheProbe() {
        Result r = run("info", "--devices");
        assertEquals(0, r.status(), r.err());
        OpenClDevices.Probe probe = OpenClDevices.probe();
        List<String> lines = r.out().lines().toList();
        if (probe.available()) {
            assertEquals(probe.devices().size(), lines.size(), r.out());
            assertTrue(lines.getFirst().startsWith("0: " + probe.devices().getFirst().name() + " ["), r.out());
        } else {
            assertEquals(List.of("no OpenCL device: " + probe.reason()), lines);
        }
    }

    /**
     * Every layer on the device in f32, compared with llama.cpp's dequantized-weight logits. Without
     * an OpenCL device the command computes on the CPU: {@code --no-repack} keeps that in f32 too
     * (the repacked copy would round activations to int8, as llama.cpp's CPU backend does).
     */
    @Test
    void logitsWithEveryLayerOffloadedEqualLlamaCpp() throws IOException {
        List<float[]> ref = rows(Files.readString(FIXTURES.resolve("tiny-qwen2moe-q8_0.deq-logits.txt")));
        String tokens = Files.readString(FIXTURES.resolve("tiny-qwen2moe-q8_0.deq-logits.txt")).lines()
                .filter(l -> !l.startsWith("#")).map(l -> l.split(" ")[1]).collect(Collectors.joining(","));
        Result r = run("logits", "-m", FIXTURES.resolve("tiny-qwen2moe-q8_0.gguf").toString(), "--tokens", tokens,
                "--gpu-layers", "99", "-t", "1", "--no-repack");
        assertEquals(0, r.status(), r.err());
        List<float[]> got = rows(r.out());
        assertEquals(ref.size(), got.size());
        for (int p = 0; p < ref.size(); p++) {
            float[] a = ref.get(p);
            float[] b = got.get(p);
            double maxAbs = 0;
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(a[i]));
                diff = Math.max(diff, Math.abs((double) a[i] - b[i]));
            }
            assertTrue(diff <= 1e-4 * Math.max(1, maxAbs), "position " + p + ": max|diff| " + diff);
        }
    }

    @Test
    void negativeGpuLayersIsOneLineAndNonZero() {
        Result r = run("logits", "-m", FIXTURES.resolve("tiny-qwen2moe-q8_0.gguf").toString(), "--tokens", "1",
                "--gpu-layers", "-1");
        assertTrue(r.status() != 0);
        assertTrue(r.err().startsWith("taipan logits: --gpu-layers must be >= 0, got -1"), r.err());
    }

    /** The logits of each position line ({@code pos token logit...}). */
    private static List<float[]> rows(String text) {
        return text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).map(l -> {
            String[] f = l.trim().split(" ");
            float[] v = new float[f.length - 2];
            for (int i = 0; i < v.length; i++) {
                v[i] = Float.parseFloat(f[i + 2]);
            }
            return v;
        }).toList();
    }
}
