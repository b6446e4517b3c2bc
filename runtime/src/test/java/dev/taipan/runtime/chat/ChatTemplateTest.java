package dev.taipan.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Chat templates rendered by jinjava equal Jinja2's render (the engine of transformers'
 * {@code apply_chat_template}) for a ChatML (Qwen2.5) and a Llama-2 template: resources/chat/
 * cases.json, made by the script in resources/chat/README.txt.
 */
class ChatTemplateTest {

    /** One conversation rendered by Jinja2. */
    record Case(String template, String bos, String eos, boolean addGenerationPrompt, List<ChatMessage> messages,
                String expected, String error) {
        @Override
        public String toString() {
            return template + " " + messages.stream().map(ChatMessage::role).toList()
                    + (addGenerationPrompt ? " +gen" : "");
        }
    }

    static String resource(String name) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/chat/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Stream<Case> cases() throws IOException {
        JsonNode root = new ObjectMapper().readTree(resource("cases.json"));
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : root) {
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : c.get("messages")) {
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            }
            cases.add(new Case(c.get("template").asText(), c.get("bos_token").asText(), c.get("eos_token").asText(),
                    c.get("add_generation_prompt").asBoolean(), messages,
                    c.has("expected") ? c.get("expected").asText() : null,
                    c.has("error") ? c.get("error").asText() : null));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rendersAsJinja2(Case c) throws IOException {
        ChatTemplate template = ChatTemplate.of(resource(c.template()), c.bos(), c.eos());
        if (c.error() == null) {
            assertEquals(c.expected(), template.render(c.messages(), c.addGenerationPrompt()));
        } else {
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> template.render(c.messages(), c.addGenerationPrompt()));
            assertTrue(e.getMessage().contains(c.error()), e.getMessage());
        }
    }

    @Test
    void casesCoverBothTemplatesAndAnError() throws IOException {
        List<Case> all = cases().toList();
        assertEquals(21, all.size());
        assertEquals(1, all.stream().filter(c -> c.error() != null).count());
    }

    @Test
    void unsupportedSyntaxIsAChatTemplateException() {
        ChatTemplate broken = ChatTemplate.of("{% for m in messages %}{{ m.content }", "", "");
        assertThrows(ChatTemplateException.class, () -> broken.render(List.of(ChatMessage.user("x")), true));
    }

    @Test
    void strftimeKeepsUnknownFieldsAndLiterals() {
        String s = ChatTemplate.strftimeNow("Today: %Y-%m-%d %Q");
        assertTrue(s.matches("Today: \\d{4}-\\d{2}-\\d{2} %Q"), s);
    }
}
