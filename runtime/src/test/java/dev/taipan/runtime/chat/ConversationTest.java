package dev.taipan.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.taipan.loaders.gguf.GgufFile;
import dev.taipan.loaders.gguf.GgufKv;
import dev.taipan.loaders.gguf.GgufTensorInfo;
import dev.taipan.loaders.gguf.GgufValueType;
import dev.taipan.loaders.gguf.GgufWriter;
import dev.taipan.loaders.tokenizer.EncodeOptions;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.runtime.GenerationStats.StopReason;
import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import dev.taipan.runtime.chat.Conversation.Continuation;
import dev.taipan.runtime.chat.Conversation.Turn;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conversations: plain completion on stories260K equals llama.cpp's greedy continuation; chat
 * turns on a tiny MoE fixture given a chat template feed only the new part of the conversation,
 * restart when the template rewrites earlier turns, and drop old turns when the context is full.
 */
class ConversationTest {
    private static final String CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
            + "<|endoftext|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(ConversationTest.class.getResource("/fixtures/" + name).toURI());
    }

    /** A copy of a fixture GGUF with {@code tokenizer.chat_template} set. */
    private static Path withTemplate(Path dir, String file, String template) throws URISyntaxException {
        Path out = dir.resolve("with-template.gguf");
        try (GgufFile in = GgufFile.open(fixture(file))) {
            List<GgufKv> kvs = new ArrayList<>(in.kvs());
            kvs.add(new GgufKv("tokenizer.chat_template", GgufValueType.STRING, template));
            GgufWriter w = new GgufWriter().putAll(kvs);
            for (GgufTensorInfo t : in.tensorInfos()) {
                w.addTensor(t.name(), t.type(), t.shape(), in.tensorData(t.name()).orElseThrow());
            }
            w.write(out);
        }
        return out;
    }

    private static String expectedGreedy(String fixtureFile) throws IOException, URISyntaxException {
        for (String line : Files.readAllLines(fixture(fixtureFile))) {
            if (line.startsWith("generated_text\t")) {
                String json = line.substring(line.indexOf('\t') + 1);
                return json.substring(1, json.length() - 1).replace("\\n", "\n").replace("\\\"", "\"");
            }
        }
        throw new AssertionError("no generated_text in " + fixtureFile);
    }

    /** Generated tokens fed to the model: all but a last one kept pending when the limit was reached. */
    private static int fed(Turn t) {
        return t.stats().generatedTokens() - (t.stats().stop() == StopReason.MAX_TOKENS ? 1 : 0);
    }

    /** Tokens a turn added to the session: its prompt, its reply and the end-of-text token that stopped it. */
    private static int added(Turn t) {
        return t.stats().promptTokens() + t.stats().generatedTokens()
                + (t.stats().stop() == StopReason.END_OF_TEXT ? 1 : 0);
    }

    @Test
    void continuationIsTheTextAfterTheCache() {
        assertEquals("<|im_start|>user\nB", Conversation.continuation("x<|im_end|>\n", "x<|im_end|>\n<|im_start|>user\nB"));
        assertEquals("whole", Conversation.continuation("", "whole"));
        // Llama-2 puts a space before </s> where the reply ended without one
        assertEquals("<s>[INST] next [/INST]",
                Conversation.continuation("[INST] q [/INST] Hi there</s>", "[INST] q [/INST] Hi there </s><s>[INST] next [/INST]"));
        assertEquals("B", Conversation.continuation("A \n", "A\n B"));
        assertNull(Conversation.continuation("[A]12 chars", "[A]12 [U]next"));
        assertNull(Conversation.continuation("abc", "ab"));
    }

    @Test
    void plainCompletionOnStoriesEqualsLlamaCppGreedy() throws Exception {
        try (Model model = Taipan.load(fixture("real/stories260K.gguf"), LoadOptions.defaults().withThreads(2))) {
            Conversation c = new Conversation(model.newSession(Sampling.greedy()), null);
            StringBuilder streamed = new StringBuilder();
            Turn t = c.send("Once upon a time", 64, streamed::append, Conversation.PrefillProgress.NONE);
            assertEquals(expectedGreedy("real/greedy_once_upon_a_time.txt"), t.reply());
            assertEquals(t.reply(), streamed.toString());
            assertEquals(5, t.stats().promptTokens()); // BOS + 4
            assertEquals(64, t.stats().generatedTokens());
            assertEquals(StopReason.MAX_TOKENS, t.stats().stop());
            assertEquals(Continuation.APPENDED, t.continuation());
            assertEquals(List.of(), c.messages());

            int before = c.session().position();
            Turn next = c.send("The end", 3, s -> { }, Conversation.PrefillProgress.NONE);
            int[] ids = model.tokenizer().orElseThrow().encode("The end", EncodeOptions.NO_BOS);
            assertEquals(ids.length, next.stats().promptTokens());
            assertEquals(before + added(next), c.session().position());
        }
    }

    @Test
    void chatTurnsFeedOnlyTheNewPart(@TempDir Path dir) throws Exception {
        Path file = withTemplate(dir, "gguf/tiny-qwen2moe-f32.gguf", CHATML);
        try (Model model = Taipan.load(file, LoadOptions.defaults().withThreads(1))) {
            Tokenizer tok = model.tokenizer().orElseThrow();
            ChatTemplate template = ChatTemplate.of(tok).orElseThrow();
            Session session = model.newSession(Sampling.greedy());
            Conversation c = new Conversation(session, template);
            List<Integer> progress = new ArrayList<>();
            Turn first = c.send("Hi", 5, s -> { }, (done, total) -> progress.add(done));
            String prompt1 = "<|im_start|>user\nHi<|endoftext|>\n<|im_start|>assistant\n";
            int[] ids1 = tok.encode(prompt1, new EncodeOptions(true, true));
            assertEquals(ids1.length, first.stats().promptTokens());
            assertEquals(progress.getLast(), ids1.length);
            assertEquals(Continuation.APPENDED, first.continuation());
            assertTrue(session.routingStats().layers().stream().allMatch(l -> l.tokens() == ids1.length + fed(first)),
                    "routing counts cover this turn's tokens");

            // the same prompt in a fresh session gives the same reply
            Session fresh = model.newSession(Sampling.greedy());
            StringBuilder expected = new StringBuilder();
            var decoder = tok.streamingDecoder();
            fresh.generateTokens(ids1, 5, id -> expected.append(decoder.push(id)));
            expected.append(decoder.flush());
            assertEquals(expected.toString(), first.reply());

            int before = session.position();
            Turn second = c.send("More", 4, s -> { }, Conversation.PrefillProgress.NONE);
            String rendered = template.render(c.messages().subList(0, 3), true);
            String cached = prompt1 + first.reply() + (first.stats().stop() == StopReason.END_OF_TEXT ? "<|endoftext|>" : "");
            int[] suffix = tok.encode(rendered.substring(cached.length()), EncodeOptions.NO_BOS);
            assertEquals(suffix.length, second.stats().promptTokens());
            assertEquals(Continuation.APPENDED, second.continuation());
            assertEquals(before + added(second), session.position());
            assertEquals(List.of("user", "assistant", "user", "assistant"),
                    c.messages().stream().map(ChatMessage::role).toList());
        }
    }

    @Test
    void templateThatRewritesEarlierTurnsRestarts(@TempDir Path dir) throws Exception {
        String lengths = "{% for m in messages %}{% if m.role == 'assistant' %}[A]{{ m.content | length }}"
                + "{% else %}[U]{{ m.content }}{% endif %}{% endfor %}{% if add_generation_prompt %}[A]{% endif %}";
        try (Model model = Taipan.load(withTemplate(dir, "gguf/tiny-qwen2moe-f32.gguf", lengths),
                LoadOptions.defaults().withThreads(1))) {
            Tokenizer tok = model.tokenizer().orElseThrow();
            Conversation c = new Conversation(model.newSession(Sampling.greedy()),
                    ChatTemplate.of(tok).orElseThrow());
            Turn first = c.send("one", 6, s -> { }, Conversation.PrefillProgress.NONE);
            Turn second = c.send("two", 2, s -> { }, Conversation.PrefillProgress.NONE);
            String full = "[U]one[A]" + first.reply().length() + "[U]two[A]";
            assertEquals(Continuation.RESTARTED, second.continuation());
            assertEquals(tok.encode(full, EncodeOptions.DEFAULT).length, second.stats().promptTokens());
            assertEquals(added(second), c.session().position());
        }
    }

    @Test
    void fullContextDropsOldTurns() throws Exception {
        try (Model model = Taipan.load(fixture("real/stories260K.gguf"),
                LoadOptions.defaults().withThreads(1).withContextLength(24))) {
            Conversation c = new Conversation(model.newSession(Sampling.greedy()), null);
            assertEquals(Continuation.APPENDED, c.send("Once upon a time", 16, s -> { },
                    Conversation.PrefillProgress.NONE).continuation());
            Turn t = c.send("The dog ran", 4, s -> { }, Conversation.PrefillProgress.NONE);
            assertEquals(Continuation.CONTEXT_FULL, t.continuation());
            int[] ids = model.tokenizer().orElseThrow().encode("The dog ran");
            assertEquals(ids.length, t.stats().promptTokens());
            assertEquals(added(t), c.session().position());
            assertThrows(IllegalStateException.class, () -> c.send("word ".repeat(40), 4, s -> { },
                    Conversation.PrefillProgress.NONE));
            assertEquals(0, c.session().position());
        }
    }

    @Test
    void cancelStopsTheReplyEvenDuringThePrefill() throws Exception {
        try (Model model = Taipan.load(fixture("real/stories260K.gguf"), LoadOptions.defaults().withThreads(1))) {
            Conversation c = new Conversation(model.newSession(Sampling.greedy()), null);
            int[] pieces = new int[1];
            Turn t = c.send("Once upon a time", 50, s -> {
                if (++pieces[0] == 3) {
                    c.cancel();
                }
            }, Conversation.PrefillProgress.NONE);
            assertEquals(StopReason.CANCELLED, t.stats().stop());
            assertEquals(3, t.stats().generatedTokens());
            assertEquals(expectedGreedy("real/greedy_once_upon_a_time.txt").substring(0, t.reply().length()),
                    t.reply());

            Turn during = c.send("The dog", 50, s -> { }, (done, total) -> c.cancel());
            assertEquals(StopReason.CANCELLED, during.stats().stop());
            assertEquals(0, during.stats().generatedTokens());
            assertEquals("", during.reply());
            int fed = c.session().position();
            Turn after = c.send("ran", 2, s -> { }, Conversation.PrefillProgress.NONE);
            assertEquals(StopReason.MAX_TOKENS, after.stats().stop());
            assertEquals(fed + after.stats().promptTokens() + 2, c.session().position());
        }
    }

    @Test
    void brokenTemplateLeavesTheConversationUntouched(@TempDir Path dir) throws Exception {
        try (Model model = Taipan.load(withTemplate(dir, "gguf/tiny-qwen2moe-f32.gguf",
                "{{ raise_exception('no ' + messages[0].role) }}"), LoadOptions.defaults().withThreads(1))) {
            Conversation c = new Conversation(model.newSession(Sampling.greedy()),
                    ChatTemplate.of(model.tokenizer().orElseThrow()).orElseThrow());
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> c.send("x", 2, s -> { }, Conversation.PrefillProgress.NONE));
            assertTrue(e.getMessage().contains("no user"), e.getMessage());
            assertEquals(List.of(), c.messages());
            assertEquals(0, c.session().position());
        }
    }
}
