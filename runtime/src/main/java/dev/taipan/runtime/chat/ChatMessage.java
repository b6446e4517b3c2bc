package dev.taipan.runtime.chat;

import java.util.Map;

/**
 * One message of a conversation as chat templates see it: {@code {"role": ..., "content": ...}}
 * (the Hugging Face {@code apply_chat_template} message format).
 */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        if (role == null || role.isBlank() || content == null) {
            throw new IllegalArgumentException("chat message needs a role and content, got " + role + ", " + content);
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }

    /** The map a template reads ({@code message['role']}, {@code message.content}). */
    Map<String, Object> asMap() {
        return Map.of("role", role, "content", content);
    }
}
