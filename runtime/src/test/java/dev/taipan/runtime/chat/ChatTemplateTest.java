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
 * {@code apply_chat_template}) for a ChatML (Qwen2.5), a Llama-2 and a Qwen3-style template (Python
 * string methods, reversed loop, think-block removal): resources/chat/cases.json, made by the
 * script in resources/chat/README.txt.
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
    void casesCoverTheTemplatesAndAnError() throws IOException {
        List<Case> all = cases().toList();
        assertEquals(37, all.size());
        assertEquals(1, all.stream().filter(c -> c.error() != null).count());
    }

    @Test
    void pythonStringMethodsBecomeFiltersInsideTagsOnly() {
        assertEquals("x.strip() {{ (a|py_strip()) }} {% for m in messages|reverse %}",
                PythonStringMethods.rewrite("x.strip() {{ a.strip() }} {% for m in messages[::-1] %}"));
        assertEquals("{%- set r = ((((content|py_split('</think>'))[0]|py_rstrip('\\n'))|py_split('<think>'))[-1]"
                        + "|py_lstrip('\\n')) %}",
                PythonStringMethods.rewrite("{%- set r = content.split('</think>')[0].rstrip('\\n')"
                        + ".split('<think>')[-1].lstrip('\\n') %}"));
        assertEquals("{{ not((m.content|py_startswith('<a>')) and (m['x'].y|py_endswith(')'))) }}",
                PythonStringMethods.rewrite("{{ not(m.content.startswith('<a>') and m['x'].y.endswith(')')) }}"));
        assertEquals("{%- set ns = namespace(a=(true),b=(messages|length - 1)) %}",
                PythonStringMethods.rewrite("{%- set ns = namespace(a=true, b=messages|length - 1) %}"));
        assertEquals(List.of("a", ""), PythonStringMethods.split("a</think>", "</think>"));
        assertEquals(List.of("a", "b"), PythonStringMethods.split("  a \n b ", null));
        assertEquals("x\n", PythonStringMethods.stripStart("\n\nx\n", "\n"));
        assertEquals(" x", PythonStringMethods.stripEnd(" x\t ", null));
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
