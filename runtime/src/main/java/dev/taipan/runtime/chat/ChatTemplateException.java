package dev.taipan.runtime.chat;

/** A chat template that the Jinja engine cannot render, or that raised an exception itself. */
public final class ChatTemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
