package dev.taipan.examples.chat;

import dev.taipan.runtime.GenerationStats;
import dev.taipan.runtime.RoutingStats;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.chat.ChatTemplateException;
import dev.taipan.runtime.chat.Conversation;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * The chat read-eval-print loop: each line is a user turn answered with a streamed reply, or a
 * command ({@code /help}). Replies and command output go to {@code out}; the banner, notes and
 * errors to {@code err}. Ctrl-C during a reply stops it ({@link Conversation#cancel()}) and the
 * loop goes on; the end of the input or {@code /quit} ends it.
 */
public final class ChatRepl {
    /** Prompts of at least this many tokens show a prefill progress bar. */
    static final int PROGRESS_MIN_TOKENS = 256;

    private static final String HELP = """
            Type a message and press Enter. Commands:
              /help                 this text
              /reset                forget the conversation (clears the session's caches)
              /set                  show the sampling settings
              /set temp T           temperature (0 = greedy)
              /set top-p P          nucleus sampling (1 = off)
              /set top-k K          keep the K most likely tokens (0 = off)
              /set min-p P          drop tokens below P x the best one's probability (0 = off)
              /set repeat-penalty R penalty on the last 64 tokens (1 = off)
              /set seed S           random seed
              /set max-tokens N     longest reply
              /stats                speed of the last reply, context and cache memory, MoE expert routing
              /quit                 leave (also Ctrl-D); Ctrl-C stops a reply""";

    private final Conversation conversation;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean progressBars;
    private Sampling sampling;
    private int maxTokens;
    private Conversation.Turn last;

    /**
     * @param conversation the chat (its session's sampling is the starting setting)
     * @param settings     the longest reply and whether progress bars are drawn on {@code err}
     * @param out          replies and command output
     * @param err          banner, notes, errors, progress bars
     */
    public ChatRepl(Conversation conversation, Settings settings, PrintWriter out, PrintWriter err) {
        this.conversation = conversation;
        this.sampling = conversation.session().sampling();
        this.maxTokens = settings.maxTokens();
        this.progressBars = settings.progressBars();
        this.out = out;
        this.err = err;
    }

    /** Reply length and progress display of a REPL. */
    public record Settings(int maxTokens, boolean progressBars) {
        public Settings {
            if (maxTokens < 1) {
                throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
            }
        }
    }

    /** Reads lines until the input ends or {@code /quit}. */
    void run(LineInput input) {
        input.onInterrupt(conversation::cancel);
        String line;
        while ((line = input.readLine("> ")) != null) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("/")) {
                if (!command(line.strip())) {
                    break;
                }
                continue;
            }
            reply(line);
        }
    }

    private void reply(String text) {
        ProgressBar[] bar = new ProgressBar[1];
        Conversation.PrefillProgress progress = (done, total) -> {
            if (bar[0] == null) {
                bar[0] = new ProgressBar(err, "reading prompt", total, ProgressBar.Unit.TOKENS,
                        progressBars && total >= PROGRESS_MIN_TOKENS);
            }
            bar[0].update(done);
            if (done == total) {
                bar[0].finish();
            }
        };
        try {
            Conversation.Turn turn = conversation.send(text, maxTokens, piece -> {
                out.print(piece);
                out.flush();
            }, progress);
            out.println();
            out.flush();
            last = turn;
            switch (turn.continuation()) {
                case RESTARTED -> note("the chat template rewrote earlier turns: the conversation was read again ("
                        + turn.stats().promptTokens() + " tokens)");
                case CONTEXT_FULL -> note("the context was full: earlier turns were dropped");
                case APPENDED -> { }
            }
            switch (turn.stats().stop()) {
                case CANCELLED -> note("stopped");
                case CONTEXT_FULL -> note("the context is full: /reset to start again");
                case END_OF_TEXT, MAX_TOKENS -> { }
            }
        } catch (ChatTemplateException | IllegalStateException | IllegalArgumentException e) {
            if (bar[0] != null) {
                bar[0].finish();
            }
            err.println("error: " + e.getMessage());
            err.flush();
        }
    }

    private void note(String text) {
        err.println("(" + text + ")");
        err.flush();
    }

    /** Runs one command; false when the REPL should end. */
    private boolean command(String line) {
        String[] words = line.split("\\s+");
        switch (words[0]) {
            case "/quit", "/exit" -> {
                return false;
            }
            case "/help" -> out.println(HELP);
            case "/reset" -> {
                conversation.reset();
                last = null;
                out.println("(conversation cleared)");
            }
            case "/set" -> set(words);
            case "/stats" -> stats();
            default -> out.println("unknown command " + words[0] + ": /help lists the commands");
        }
        out.flush();
        return true;
    }

    private void set(String[] words) {
        if (words.length == 1) {
            out.println(settingsLine());
            return;
        }
        if (words.length != 3) {
            out.println("usage: /set temp|top-p|top-k|min-p|repeat-penalty|seed|max-tokens VALUE");
            return;
        }
        try {
            String value = words[2];
            switch (words[1]) {
                case "temp", "temperature" -> sampling = sampling.withTemperature(Double.parseDouble(value));
                case "top-p" -> sampling = sampling.topP(Double.parseDouble(value));
                case "top-k" -> sampling = sampling.topK(Integer.parseInt(value));
                case "min-p" -> sampling = sampling.minP(Double.parseDouble(value));
                case "repeat-penalty" -> sampling = sampling.repetitionPenalty(Double.parseDouble(value));
                case "seed" -> sampling = sampling.seed(Long.parseLong(value));
                case "max-tokens" -> {
                    int n = Integer.parseInt(value);
                    if (n < 1) {
                        throw new IllegalArgumentException("max-tokens must be >= 1, got " + n);
                    }
                    maxTokens = n;
                }
                default -> {
                    out.println("unknown setting " + words[1] + ": temp, top-p, top-k, min-p, repeat-penalty, seed, "
                            + "max-tokens");
                    return;
                }
            }
            conversation.session().setSampling(sampling);
            out.println(settingsLine());
        } catch (IllegalArgumentException e) {
            out.println("error: " + e.getMessage());
        }
    }

    private String settingsLine() {
        return String.format(Locale.ROOT, "temp %s, top-p %s, top-k %d, min-p %s, repeat-penalty %s, seed %s, "
                        + "max-tokens %d", sampling.temperature(), sampling.topP(), sampling.topK(), sampling.minP(),
                sampling.repetitionPenalty(),
                sampling.seed().isPresent() ? Long.toString(sampling.seed().getAsLong()) : "random", maxTokens);
    }

    private void stats() {
        Session session = conversation.session();
        if (last == null) {
            out.println("no reply yet");
        } else {
            GenerationStats s = last.stats();
            out.println(String.format(Locale.ROOT, "prompt: %d tokens, %.1f tok/s; time to first token %.1f ms",
                    s.promptTokens(), s.promptTokensPerSecond(), s.timeToFirstTokenMillis()));
            out.println(String.format(Locale.ROOT, "reply:  %d tokens, %.1f tok/s (%s)", s.generatedTokens(),
                    s.decodeTokensPerSecond(), s.stop().name().toLowerCase(Locale.ROOT).replace('_', ' ')));
        }
        out.println(String.format(Locale.ROOT, "context: %d of %d tokens; cache memory %s",
                session.position(), session.limits().contextLength(), Histogram.bytes(session.cacheBytes())));
        RoutingStats routing = session.routingStats();
        if (!routing.isEmpty() && last != null) {
            Histogram.experts(routing, out);
        }
    }
}
