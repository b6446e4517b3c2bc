package dev.taipan.examples;

import dev.taipan.examples.chat.BundledModel;
import dev.taipan.loaders.tokenizer.Tokenizer;
import dev.taipan.runtime.GenerationStats;
import dev.taipan.runtime.Model;
import dev.taipan.runtime.Sampling;
import dev.taipan.runtime.Session;
import dev.taipan.runtime.Taipan;
import dev.taipan.runtime.chat.ChatTemplate;
import dev.taipan.runtime.chat.Conversation;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The embedding API in one file: load a model, stream a reply, continue it, read logits, chat.
 * Runs on the bundled stories260K, or on the GGUF file given as the argument:
 * <pre>
 * ./mvnw -q -pl examples -am compile exec:java -Dexec.mainClass=dev.taipan.examples.ApiExample
 * ./mvnw -q -pl examples -am compile exec:java -Dexec.mainClass=dev.taipan.examples.ApiExample -Dexec.args=model.gguf
 * </pre>
 */
public final class ApiExample {
    private ApiExample() {
    }

    public static void main(String[] args) {
        run(args.length > 0 ? Path.of(args[0]) : BundledModel.path(), System.out);
    }

    /** The example, printing to {@code out}. */
    static void run(Path modelFile, PrintStream out) {
        // A Model is immutable and shared by threads; closing it unmaps the file.
        try (Model model = Taipan.load(modelFile)) {
            // A Session is one context (its KV/SSM caches), used by one thread at a time.
            Session story = model.newSession(Sampling.temperature(0.8).topP(0.95).seed(42));
            GenerationStats stats = story.generate("Once upon a time", 48, out::print);
            out.println();
            out.println(String.format(Locale.ROOT, "[%d prompt tokens, %d generated at %.0f tok/s, stop: %s]",
                    stats.promptTokens(), stats.generatedTokens(), stats.decodeTokensPerSecond(), stats.stop()));

            // The next call continues the same context: nothing is prefilled again.
            story.generate(" The next day,", 32, out::print);
            out.println();

            // Logits of every position of a prompt, here the greedy next token.
            Tokenizer tokenizer = model.tokenizer().orElseThrow();
            int[] prompt = tokenizer.encode("Once upon a time");
            float[][] logits = model.newSession(Sampling.greedy()).logits(prompt);
            out.println("most likely after \"Once upon a time\": \""
                    + tokenizer.piece(argmax(logits[prompt.length - 1])) + "\"");

            // A chat: the model's chat template when it has one (stories260K has none: plain text).
            Conversation chat = new Conversation(model.newSession(Sampling.greedy()),
                    ChatTemplate.of(tokenizer).orElse(null));
            chat.send("The cat sat", 24, out::print, Conversation.PrefillProgress.NONE);
            out.println();
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
