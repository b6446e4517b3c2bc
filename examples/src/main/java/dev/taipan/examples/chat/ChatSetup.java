package dev.taipan.examples.chat;

import dev.taipan.runtime.LoadOptions;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.chat.ChatMessage;
import dev.taipan.runtime.chat.ChatTemplate;
import dev.taipan.runtime.chat.ChatTemplateException;
import dev.taipan.runtime.chat.Conversation;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * What a chat runs on, and the two ways to run it: on the terminal (JLine line editing, history in
 * {@code ~/.taipan_history}, Ctrl-C stops a reply, progress bars when stderr is a terminal) or over
 * the lines of a stream (scripts, tests).
 *
 * @param model    model file or directory
 * @param load     threads and context length
 * @param sampling the starting sampling settings
 * @param chat     reply length, system message, template choice
 */
public record ChatSetup(Path model, LoadOptions load, Sampling sampling, Chat chat) {

    /**
     * @param maxTokens longest reply
     * @param system    system message, or null
     * @param plain     ignore the model's chat template
     */
    public record Chat(int maxTokens, String system, boolean plain) {
    }

    /** Whether stdin and stdout are a terminal. */
    public static boolean interactive() {
        return Terminals.interactive();
    }

    /** Runs the REPL on the system terminal; returns the exit status. */
    public static int runOnTerminal(ChatSetup setup, PrintWriter err) throws IOException {
        Terminal terminal = TerminalBuilder.builder().system(true).build();
        Path history = Path.of(System.getProperty("user.home"), ".taipan_history");
        return setup.run(LineInput.of(terminal, history), terminal.writer(), err, Terminals.stderrIsTerminal());
    }

    /** Runs the REPL over the lines of {@code in}, without progress bars; returns the exit status. */
    public static int runOnLines(ChatSetup setup, BufferedReader in, PrintWriter out, PrintWriter err) {
        return setup.run(LineInput.of(in), out, err, false);
    }

    private int run(LineInput input, PrintWriter out, PrintWriter err, boolean progress) {
        try (input; Model model = ModelLoading.load(this.model, load, err, progress)) {
            ChatTemplate template = chat.plain() ? null : template(model, err);
            Conversation conversation = new Conversation(model.newSession(sampling), template);
            if (chat.system() != null) {
                if (template != null) {
                    conversation.system(chat.system());
                } else {
                    err.println("(--system is ignored: plain completion has no system message)");
                }
            }
            err.println("taipan chat: " + model.source().path().getFileName() + " (" + model.architecture()
                    + "), context " + model.contextLength() + " tokens, "
                    + (template != null ? "chat template" : "plain completion: your text is continued")
                    + ". /help for commands, /quit to leave.");
            err.flush();
            new ChatRepl(conversation, new ChatRepl.Settings(chat.maxTokens(), progress), out, err).run(input);
        }
        return 0;
    }

    /** The model's chat template if jinjava renders it; else null after one warning line. */
    static ChatTemplate template(Model model, PrintWriter err) {
        Optional<ChatTemplate> template = model.tokenizer().flatMap(ChatTemplate::of);
        if (template.isEmpty()) {
            return null;
        }
        try {
            template.get().render(List.of(ChatMessage.user("Hello")), true);
            return template.get();
        } catch (ChatTemplateException e) {
            err.println("warning: the model's chat template does not render with jinjava (" + e.getMessage()
                    + "); running as plain completion");
            return null;
        }
    }
}
