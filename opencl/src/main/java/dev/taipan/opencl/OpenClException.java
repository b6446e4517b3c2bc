package dev.taipan.opencl;

/** An OpenCL call failed: names the function and the CL status (e.g. {@code CL_OUT_OF_RESOURCES}). */
public final class OpenClException extends RuntimeException {
    private final int status;

    public OpenClException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The failing call's status: a {@code cl_int} error code, or 0 when no call failed. */
    public int status() {
        return status;
    }

    static OpenClException of(String function, int status, String detail) {
        String msg = function + " failed: " + ClErrors.name(status) + " (" + status + ")";
        return new OpenClException(detail == null || detail.isEmpty() ? msg : msg + ": " + detail, status);
    }
}
