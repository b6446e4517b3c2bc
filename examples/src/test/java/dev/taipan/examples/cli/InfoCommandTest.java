package dev.taipan.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.quant.RepackedTensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code taipan info} on the tiny Q8_0 qwen2moe fixture, checked against gguf-py's listing of the
 * same file (tiny-qwen2moe-q8_0.tensors.txt: index, elements, ne, type, name) and its metadata
 * (4 experts, 2 used per token; 2 kv heads of 16 per layer, F32 KV cache; context 4096).
 */
class InfoCommandTest {
    private static final Path FIXTURES = Path.of("src/test/resources/fixtures");

    /** One tensor of the listing. */
    private record Listed(long elements, String type, String name) {
        long bytes() {
            return type.equals("Q8_0") ? elements / 32 * 34 : 4 * elements;
        }
    }

    @Test
    void describesTheTinyMoe() throws IOException {
        List<Listed> listed = Files.readAllLines(FIXTURES.resolve("tiny-qwen2moe-q8_0.tensors.txt")).stream()
                .filter(l -> !l.startsWith("*")).map(l -> l.split("\\|"))
                .map(c -> new Listed(Long.parseLong(c[0].substring(c[0].indexOf(':') + 1).strip()), c[2].strip(),
                        c[3].strip()))
                .toList();
        long total = listed.stream().mapToLong(Listed::elements).sum();
        long experts = listed.stream().filter(t -> t.name().contains("_exps.")).mapToLong(Listed::elements).sum();
        long active = total - experts / 2;
        long q8 = listed.stream().filter(t -> t.type().equals("Q8_0")).count();
        long weights = listed.stream().mapToLong(Listed::bytes).sum();
        // the decode copy: every Q8_0 matrix but the embedding (read a row at a time), 34 bytes per
        // block, the 262-row output padded to whole groups of 2G rows
        int group = 2 * RepackedTensor.G;
        long copy = listed.stream().filter(t -> t.type().equals("Q8_0") && !t.name().equals("token_embd.weight"))
                .mapToLong(t -> (t.name().equals("output.weight") ? t.elements() / 262 * ((262 + group - 1) / group * group)
                        : t.elements()) / 32 * 34).sum();
        long cache = 4096L * 2 * 2 * 2 * 16 * 4; // tokens x layers x (K, V) x kv heads x head_dim x 4 bytes

        Path file = FIXTURES.resolve("tiny-qwen2moe-q8_0.gguf");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = TaipanCli.execute(new String[] {"info", "--model", file.toString()}, new PrintWriter(out),
                new PrintWriter(err));
        assertEquals(0, status, err.toString());
        List<String> lines = out.toString().lines().toList();
        assertEquals(List.of(
                "model:        tiny-qwen2moe (" + file + ")",
                "architecture: qwen2moe",
                "parameters:   " + InfoCommand.count(total) + " (" + total + ")",
                "active:       " + InfoCommand.count(active) + " per token (" + active + "), 2 sparse MoE layers",
                "layers:       2",
                "  0-1      attention+moe",
                "tensors:"), lines.subList(0, 7));
        // most parameters first: Q8_0 matrices, then F32 norms and routers
        assertTrue(lines.get(7).startsWith(String.format("  %-7s %4d tensors", "Q8_0", q8)), lines.get(7));
        assertTrue(lines.get(8).startsWith(String.format("  %-7s %4d tensors", "F32", listed.size() - q8)),
                lines.get(8));
        assertEquals(List.of(
                "tokenizer:    byte_level_bpe, 262 tokens, bos '<|endoftext|>', eos '<|endoftext|>', no chat template",
                "context:      4096 tokens trained",
                "memory:       " + InfoCommand.bytes(weights + copy + cache) + " at 4096 tokens = weights "
                        + InfoCommand.bytes(weights) + " (mapped) + decode copy " + InfoCommand.bytes(copy)
                        + " (--no-repack: none) + caches " + InfoCommand.bytes(cache)
                        + " (512 B per token)"), lines.subList(9, 12));
        assertEquals(12, lines.size());
    }

    @Test
    void formatsCountsAndBytes() {
        assertEquals("999", InfoCommand.count(999));
        assertEquals("1.23M", InfoCommand.count(1_234_567));
        assertEquals("30.53B", InfoCommand.count(30_532_122_624L));
        assertEquals("1023 B", InfoCommand.bytes(1023));
        assertEquals("1.50 KiB", InfoCommand.bytes(1536));
        assertEquals("2.00 MiB", InfoCommand.bytes(2L << 20));
    }
}
