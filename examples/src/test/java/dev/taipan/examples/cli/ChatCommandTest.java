package dev.taipan.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Scripted chat sessions (stdin not a terminal): the REPL answers each line, runs its commands and
 * ends at /quit. On the bundled stories260K the greedy reply equals llama.cpp's; on a tiny MoE the
 * /stats expert histogram adds up to the tokens routed.
 */
class ChatCommandTest {
    private static final Path FIXTURES = Path.of("src/test/resources/fixtures");

    /** What one scripted session printed. */
    private record Session(int status, String out, String err) {
    }

    private static Session chat(String script, String... args) {
        ChatCommand command = new ChatCommand();
        new CommandLine(command).parseArgs(args);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = command.chat(new BufferedReader(new StringReader(script)), new PrintWriter(out),
                new PrintWriter(err));
        return new Session(status, out.toString(), err.toString());
    }

    private static String greedyText() throws IOException {
        for (String line : Files.readAllLines(FIXTURES.resolve("greedy_once_upon_a_time.txt"))) {
            if (line.startsWith("generated_text\t")) {
                String json = line.substring(line.indexOf('\t') + 1);
                return json.substring(1, json.length() - 1).replace("\\n", "\n").replace("\\\"", "\"");
            }
        }
        throw new AssertionError("no generated_text");
    }

    @Test
    void scriptedSessionOnTheBundledModel() throws IOException {
        Session s = chat("""
                /set temp 0
                /set max-tokens 64
                Once upon a time
                /stats
                /set top-k 5
                /set warmth 3
                /set temp -1

                /reset
                /stats
                /bogus
                /quit
                Never answered
                """, "--threads", "2", "--seed", "7");
        assertEquals(0, s.status(), s.err());
        assertTrue(s.err().contains("stories260K.gguf (llama)") && s.err().contains("plain completion"), s.err());
        String expected = """
                temp 0.0, top-p 0.95, top-k 40, min-p 0.05, repeat-penalty 1.0, seed 7, max-tokens 256
                temp 0.0, top-p 0.95, top-k 40, min-p 0.05, repeat-penalty 1.0, seed 7, max-tokens 64
                """ + greedyText() + "\n";
        assertTrue(s.out().startsWith(expected), s.out());
        List<String> rest = s.out().substring(expected.length()).lines().toList();
        assertEquals(10, rest.size(), s.out());
        assertTrue(rest.get(0).matches("prompt: 5 tokens, [0-9.]+ tok/s; time to first token [0-9.]+ ms"), rest.get(0));
        assertTrue(rest.get(1).matches("reply:  64 tokens, [0-9.]+ tok/s \\(max tokens\\)"), rest.get(1));
        assertTrue(rest.get(2).matches("context: 69 of 2048 tokens; cache memory [0-9.]+ MiB"), rest.get(2));
        assertEquals("temp 0.0, top-p 0.95, top-k 5, min-p 0.05, repeat-penalty 1.0, seed 7, max-tokens 64",
                rest.get(3));
        assertTrue(rest.get(4).startsWith("unknown setting warmth"), rest.get(4));
        assertEquals("error: sampling temperature = -1.0 must be >= 0", rest.get(5));
        assertEquals("(conversation cleared)", rest.get(6));
        assertEquals("no reply yet", rest.get(7));
        assertTrue(rest.get(8).startsWith("context: 0 of 2048 tokens"), rest.get(8));
        assertTrue(rest.get(9).startsWith("unknown command /bogus"), rest.get(9));
    }

    @Test
    void endOfInputEndsTheSessionAndHelpListsCommands() {
        Session s = chat("/help\n", "-t", "1");
        assertEquals(0, s.status());
        for (String command : List.of("/reset", "/set temp", "/set top-p", "/set top-k", "/set min-p", "/set seed",
                "/set max-tokens", "/stats", "/quit")) {
            assertTrue(s.out().contains(command), command);
        }
    }

    @Test
    void statsOfAMoeModelShowTheExpertHistogram() {
        Session s = chat("/set temp 0\n/set max-tokens 6\nhello there\n/stats\n/quit\n",
                "--model", FIXTURES.resolve("tiny-qwen2moe-q8_0.gguf").toString(), "-t", "1");
        assertEquals(0, s.status(), s.err());
        Matcher m = Pattern.compile("experts \\(last reply\\): 2 MoE layers, 2 of 4 experts per token, (\\d+) tokens "
                + "routed; (\\d) of 4 experts chosen at least once").matcher(s.out());
        assertTrue(m.find(), s.out());
        int tokens = Integer.parseInt(m.group(1));
        Matcher prompt = Pattern.compile("prompt: (\\d+) tokens").matcher(s.out());
        Matcher reply = Pattern.compile("reply:  (\\d+) tokens, [0-9.]+ tok/s \\((.*)\\)").matcher(s.out());
        assertTrue(prompt.find() && reply.find(), s.out());
        // every prompt and generated token was routed, but a last one kept pending at the token limit
        int pending = reply.group(2).equals("max tokens") ? 1 : 0;
        assertEquals(Integer.parseInt(prompt.group(1)) + Integer.parseInt(reply.group(1)) - pending, tokens);
        Matcher bar = Pattern.compile("(?m)^  expert (\\d) #* *(\\d+) \\(").matcher(s.out());
        long sum = 0;
        int rows = 0;
        while (bar.find()) {
            assertEquals(rows, Integer.parseInt(bar.group(1)));
            sum += Long.parseLong(bar.group(2));
            rows++;
        }
        assertEquals(4, rows, s.out());
        assertEquals(2L * 2 * tokens, sum); // 2 layers x 2 experts per token
    }

    @Test
    void missingModelIsAUsageError() {
        StringWriter err = new StringWriter();
        int status = TaipanCli.execute(new String[] {"chat", "--model", "no/such.gguf"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err));
        assertEquals(TaipanCli.USAGE_ERROR, status);
        assertEquals("taipan chat: --model: no/such.gguf does not exist (see --help)", err.toString().strip());
    }
}
