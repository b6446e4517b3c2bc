package dev.taipan.runtime.chat;

import dev.taipan.loaders.tokenizer.EncodeOptions;
import dev.taipan.loaders.tokenizer.StreamingDecoder;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.runtime.GenerationStats;
import dev.taipan.runtime.Session;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * A multi-turn chat kept in one {@link Session}'s caches. With a {@link ChatTemplate}, each turn
 * renders the whole conversation and feeds only the text after what the session already holds
 * (llama.cpp's simple-chat does the same with {@code llama_chat_apply_template}), so earlier turns
 * are never prefilled again. Without a template (a base model such as stories260K) each input is
 * plain text that continues the session's text.
 *
 * <p>The session holds: every rendered prompt, each reply as generated, and the end-of-turn token
 * that stopped it. When the next render does not start with that text (templates often strip the
 * reply or put a space before the end-of-turn token), the two are compared ignoring whitespace; if
 * they still differ (a template that rewrites earlier turns), the session is reset and the whole
 * conversation is prefilled again ({@link Continuation#RESTARTED}). When a turn does not fit the
 * context, older turns are dropped ({@link Continuation#CONTEXT_FULL}).
 *
 * <p>Not thread-safe, like its session; {@link Session#cancel()} stops a reply from another thread.
 */
public final class Conversation {

    /** How a turn's prompt was fed. */
    public enum Continuation {
        /** Only the new part of the conversation was fed. */
        APPENDED,
        /** The template changed earlier turns: the session was reset and the conversation fed again. */
        RESTARTED,
        /** The context was full: the session was reset and only the new input fed. */
        CONTEXT_FULL
    }

    /** Progress of a prompt's prefill, called after each batch. */
    @FunctionalInterface
    public interface PrefillProgress {
        PrefillProgress NONE = (done, total) -> { };

        void update(int done, int total);
    }

    /**
     * One turn.
     *
     * @param reply        the generated text
     * @param stats        prompt tokens fed for this turn and their time; tokens generated and their time
     * @param continuation how the prompt was fed
     */
    public record Turn(String reply, GenerationStats stats, Continuation continuation) {
    }

    private final Session session;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;             // null: plain completion
    private final List<ChatMessage> messages = new ArrayList<>();
    private final StringBuilder cachedText = new StringBuilder(); // template mode: the text in the session
    private volatile boolean cancelled;

    /**
     * A conversation over {@code session}; {@code template} null means plain completion.
     *
     * @throws IllegalArgumentException when the session's model has no tokenizer
     */
    public Conversation(Session session, ChatTemplate template) {
        this.session = session;
        this.tokenizer = session.model().tokenizer().orElseThrow(() ->
                new IllegalArgumentException("a conversation needs a model with a tokenizer"));
        this.template = template;
    }

    public Session session() {
        return session;
    }

    /** Whether turns are formatted by a chat template (false: plain completion). */
    public boolean usesTemplate() {
        return template != null;
    }

    /** The messages so far (template mode; empty in plain completion). */
    public List<ChatMessage> messages() {
        return List.copyOf(messages);
    }

    /**
     * Starts the conversation with a system message (template mode; a plain completion has none).
     *
     * @throws IllegalStateException once a turn was sent, or without a template
     */
    public void system(String text) {
        if (template == null || !messages.isEmpty() || session.position() > 0) {
            throw new IllegalStateException(template == null ? "plain completion has no system message"
                    : "the system message must come before the first turn");
        }
        messages.add(ChatMessage.system(text));
    }

    /**
     * Stops the reply being generated (any thread). A prompt being prefilled is read to its end
     * first, then no token is generated; the turn ends as {@link GenerationStats.StopReason#CANCELLED}.
     */
    public void cancel() {
        cancelled = true;
        session.cancel();
    }

    /** Forgets the conversation and the session's tokens; keeps the system message. */
    public void reset() {
        session.reset();
        messages.removeIf(m -> !m.role().equals("system"));
        cachedText.setLength(0);
    }

    /**
     * Sends {@code text} as the user's turn and streams the reply to {@code onPiece}.
     *
     * @throws ChatTemplateException when the template fails on this conversation (nothing is fed)
     * @throws IllegalStateException when the input alone does not fit the context
     */
    public Turn send(String text, int maxTokens, Consumer<String> onPiece, PrefillProgress progress) {
        cancelled = false;
        Continuation how = Continuation.APPENDED;
        int[] ids;
        if (template == null) {
            ids = tokenizer.encode(text, session.position() == 0 ? EncodeOptions.DEFAULT : EncodeOptions.NO_BOS);
        } else {
            messages.add(ChatMessage.user(text));
            String rendered;
            try {
                rendered = template.render(messages, true);
            } catch (ChatTemplateException e) {
                messages.removeLast();
                throw e;
            }
            String suffix = continuation(cachedText.toString(), rendered);
            if (suffix == null) {
                session.reset();
                suffix = rendered;
                how = Continuation.RESTARTED;
            }
            ids = encodeTemplated(suffix);
            cachedText.setLength(0);
            cachedText.append(rendered);
        }
        int context = session.limits().contextLength();
        if (session.position() + ids.length + 1 > context) {
            session.reset();
            how = Continuation.CONTEXT_FULL;
            ids = restartWith(text);
            if (ids.length + 1 > context) {
                reset();
                throw new IllegalStateException("input of " + ids.length + " tokens does not fit the context of "
                        + context + " tokens");
            }
        }
        return generate(ids, maxTokens, onPiece, progress, how);
    }

    private Turn generate(int[] ids, int maxTokens, Consumer<String> onPiece, PrefillProgress progress,
                          Continuation how) {
        session.resetRoutingStats();
        long t0 = System.nanoTime();
        int batch = session.limits().maxBatch();
        for (int off = 0; off < ids.length; off += batch) {
            int n = Math.min(batch, ids.length - off);
            session.prefill(Arrays.copyOfRange(ids, off, off + n));
            progress.update(off + n, ids.length);
        }
        long t1 = System.nanoTime();
        StreamingDecoder decoder = tokenizer.streamingDecoder();
        StringBuilder reply = new StringBuilder();
        Consumer<String> sink = piece -> {
            if (!piece.isEmpty()) {
                reply.append(piece);
                onPiece.accept(piece);
            }
        };
        // a cancel() that came before generateTokens cleared the session's flag is applied at the first token
        GenerationStats g = cancelled ? new GenerationStats(0, 0, 0, 0, GenerationStats.StopReason.CANCELLED)
                : session.generateTokens(new int[0], maxTokens, id -> {
                    if (cancelled) {
                        session.cancel();
                    }
                    sink.accept(decoder.push(id));
                });
        sink.accept(decoder.flush());
        if (template != null) {
            messages.add(ChatMessage.assistant(reply.toString()));
            cachedText.append(reply);
            if (g.stop() == GenerationStats.StopReason.END_OF_TEXT) {
                session.pendingToken().ifPresent(t -> cachedText.append(tokenizer.tokenText(t)));
            }
        }
        GenerationStats stats = new GenerationStats(ids.length, t1 - t0, g.generatedTokens(), g.decodeNanos(),
                g.stop());
        return new Turn(reply.toString(), stats, how);
    }

    // The context was full: keep the system messages and the new input only.
    private int[] restartWith(String text) {
        if (template == null) {
            return tokenizer.encode(text, EncodeOptions.DEFAULT);
        }
        List<ChatMessage> kept = new ArrayList<>(messages.stream().filter(m -> m.role().equals("system")).toList());
        kept.add(ChatMessage.user(text));
        messages.clear();
        messages.addAll(kept);
        String rendered = template.render(messages, true);
        cachedText.setLength(0);
        cachedText.append(rendered);
        return encodeTemplated(rendered);
    }

    // Rendered text: special tokens parsed; BOS added at the start unless the template wrote it.
    private int[] encodeTemplated(String text) {
        boolean atStart = session.position() == 0;
        String bos = template.bosToken();
        boolean addSpecial = atStart && (bos.isEmpty() || !text.startsWith(bos));
        return tokenizer.encode(text, new EncodeOptions(addSpecial, true));
    }

    /**
     * The part of {@code rendered} to feed after {@code cached}: what follows it when
     * {@code rendered} starts with it, else what follows once every non-whitespace character of
     * {@code cached} is matched in order (whitespace skipped on both sides), else null.
     */
    static String continuation(String cached, String rendered) {
        if (rendered.startsWith(cached)) {
            return rendered.substring(cached.length());
        }
        int i = 0;
        int j = 0;
        while (true) {
            while (i < cached.length() && Character.isWhitespace(cached.charAt(i))) {
                i++;
            }
            if (i == cached.length()) {
                boolean endsWithSpace = !cached.isEmpty() && Character.isWhitespace(cached.charAt(cached.length() - 1));
                while (endsWithSpace && j < rendered.length() && Character.isWhitespace(rendered.charAt(j))) {
                    j++;
                }
                return rendered.substring(j);
            }
            while (j < rendered.length() && Character.isWhitespace(rendered.charAt(j))) {
                j++;
            }
            if (j == rendered.length() || cached.charAt(i) != rendered.charAt(j)) {
                return null;
            }
            i++;
            j++;
        }
    }
}
