package dev.taipan.loaders;

/**
 * A model file (or directory) is truncated, corrupt, hostile, or of a kind we do not support.
 * The message names the file and the field, tensor or key at fault.
 */
public class ModelFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
