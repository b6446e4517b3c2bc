package dev.taipan.examples.chat;

import dev.taipan.examples.cli.TaipanCli;
import java.util.ArrayList;
import java.util.List;

/**
 * Main class of {@code ./mvnw -pl examples -am compile exec:java}: {@code taipan chat} with the
 * given arguments (e.g. {@code -Dexec.args="--model model.gguf"}).
 */
public final class ChatMain {
    private ChatMain() {
    }

    public static void main(String[] args) {
        List<String> all = new ArrayList<>(List.of("chat"));
        all.addAll(List.of(args));
        TaipanCli.main(all.toArray(new String[0]));
    }
}
