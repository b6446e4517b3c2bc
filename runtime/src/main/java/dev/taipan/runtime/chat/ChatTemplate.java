package dev.taipan.runtime.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.taipan.loaders.tokenizer.Tokenizer;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A model's {@code tokenizer.chat_template} rendered with jinjava, the way Hugging Face
 * transformers' {@code apply_chat_template} renders it with Jinja2 ({@code trim_blocks},
 * {@code lstrip_blocks}, one trailing newline of the template dropped, {@code raise_exception} and
 * {@code strftime_now} defined). The variables are {@code messages} (role/content maps),
 * {@code add_generation_prompt}, {@code bos_token} and {@code eos_token}.
 *
 * <p>jinjava is not Jinja2: the Python string methods templates use most ({@code startswith},
 * {@code split}, {@code lstrip}, ...) and {@code [::-1]} are rewritten for it
 * ({@link PythonStringMethods}); other Python-only syntax fails with a
 * {@link ChatTemplateException} and callers fall back to plain completion. Immutable and safe to
 * share between threads.
 */
public final class ChatTemplate {
    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final String prepared; // source as jinjava reads it
    private final Jinjava jinjava;

    private ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = source;
        this.prepared = PythonStringMethods.rewrite(jinja2Source(source));
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withFailOnUnknownTokens(false)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUsePyishObjectMapper(true)
                        .withKeepNullableLoopValues(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .build())
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class, "strftimeNow", String.class));
        PythonStringMethods.register(jinjava.getGlobalContext());
    }

    /** A template with the given special-token texts for {@code bos_token} and {@code eos_token}. */
    public static ChatTemplate of(String source, String bosToken, String eosToken) {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("chat template is empty");
        }
        return new ChatTemplate(source, bosToken == null ? "" : bosToken, eosToken == null ? "" : eosToken);
    }

    /** The tokenizer's chat template with its BOS and EOS texts, when it has one. */
    public static Optional<ChatTemplate> of(Tokenizer tokenizer) {
        return tokenizer.chatTemplate().filter(s -> !s.isBlank()).map(s -> of(s,
                tokenizer.bos() >= 0 ? tokenizer.tokenText(tokenizer.bos()) : "",
                tokenizer.eos() >= 0 ? tokenizer.tokenText(tokenizer.eos()) : ""));
    }

    public String source() {
        return source;
    }

    public String bosToken() {
        return bosToken;
    }

    /**
     * The prompt text of {@code messages}; with {@code addGenerationPrompt} it ends with what
     * opens the assistant's turn.
     *
     * @throws ChatTemplateException when the template does not render (naming the line)
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            list.add(m.asMap());
        }
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", list);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        RenderResult result;
        try {
            result = jinjava.renderForResult(prepared, vars);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template does not render: " + e.getMessage(), e);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                    if (t instanceof ChatTemplateException raised) {
                        throw new ChatTemplateException(raised.getMessage() + " (line " + error.getLineno() + ")");
                    }
                }
                throw new ChatTemplateException("chat template does not render (line " + error.getLineno() + "): "
                        + error.getMessage());
            }
        }
        return result.getOutput();
    }

    // Jinja2 (keep_trailing_newline=False) drops one newline at the end of the template.
    private static String jinja2Source(String source) {
        if (source.endsWith("\r\n")) {
            return source.substring(0, source.length() - 2);
        }
        return source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
    }

    /** {@code raise_exception(message)} as transformers defines it for templates. */
    public static String raiseException(String message) {
        throw new ChatTemplateException("chat template raised: " + message);
    }

    /** {@code strftime_now(format)}: today's date in the common strftime fields (%d %m %Y %b %B %y %A %a). */
    public static String strftimeNow(String format) {
        LocalDate today = LocalDate.now();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char f = format.charAt(++i);
            String pattern = switch (f) {
                case 'd' -> "dd";
                case 'm' -> "MM";
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                default -> null;
            };
            out.append(pattern == null ? "%" + f : today.format(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH)));
        }
        return out.toString();
    }
}
