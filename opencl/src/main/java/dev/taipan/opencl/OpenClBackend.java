package dev.taipan.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.taipan.tensor.DType;
import dev.taipan.tensor.Tensor;
import dev.taipan.tensor.backend.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The OpenCL {@link Backend}: one context and in-order queue on one device, the kernels of
 * {@code matvec.cl} compiled at open, and one read-only buffer per placed weight (F32, F16, Q8_0,
 * Q4_0; other types stay on the host). A matvec/matmul copies the activations in, runs one
 * work-group per (row, tile of tokens) and reads the outputs back; calls are serialised on this backend.
 * {@link #close} releases every buffer, kernel, program, queue and the context.
 */
public final class OpenClBackend implements Backend {
    private static final System.Logger LOG = System.getLogger(OpenClBackend.class.getName());
    private static final AtomicInteger LIVE_BUFFERS = new AtomicInteger();
    private static final String KERNELS = "matvec.cl";
    /** Work-items per row (a power of two), capped by the device's work-group limit. */
    private static final int PREFERRED_GROUP = 64;
    /** Tokens per work-group in a batch: each weight is read once per tile of this many tokens. */
    private static final int TOKEN_TILE = 8;

    private final Cl cl;
    private final OpenClDevices.DeviceInfo device;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment context;
    private final MemorySegment queue;
    private final MemorySegment program;
    private final Map<DType, MemorySegment> kernels = new EnumMap<>(DType.class);
    private final List<MemorySegment> buffers = new ArrayList<>();
    private final long maxAlloc;
    private final int group;
    private final MemorySegment args;
    private MemorySegment xBuf = MemorySegment.NULL;
    private MemorySegment outBuf = MemorySegment.NULL;
    private MemorySegment xStage = MemorySegment.NULL;
    private MemorySegment outStage = MemorySegment.NULL;
    private long placedBytes;
    private boolean closed;

    private OpenClBackend(OpenClDevices.Handle handle, String source) {
        this.cl = Cl.get();
        this.device = handle.info();
        MemorySegment dev = handle.device();
        this.maxAlloc = cl.deviceLong(dev, Cl.CL_DEVICE_MAX_MEM_ALLOC_SIZE, 8);
        int maxGroup = (int) Math.min(PREFERRED_GROUP, cl.deviceLong(dev, Cl.CL_DEVICE_MAX_WORK_GROUP_SIZE, 8));
        this.group = Integer.highestOneBit(Math.max(1, maxGroup));
        // kernel arguments at 0..44, global size at 48, local size (group, 1) at 64
        this.args = arena.allocate(80, 8);
        args.set(JAVA_LONG, 64, group);
        args.set(JAVA_LONG, 72, 1L);
        MemorySegment ctx = cl.createContext(dev);
        MemorySegment q = MemorySegment.NULL;
        MemorySegment prog = MemorySegment.NULL;
        try {
            q = cl.createCommandQueue(ctx, dev);
            prog = cl.buildProgram(ctx, dev, source, "-cl-std=CL1.2 -DWG=" + group + " -DTT=" + TOKEN_TILE);
            for (DType t : new DType[] {DType.F32, DType.F16, DType.Q8_0, DType.Q4_0}) {
                kernels.put(t, cl.createKernel(prog, "matvec_" + t.name().toLowerCase(Locale.ROOT)));
            }
        } catch (RuntimeException e) {
            kernels.values().forEach(k -> cl.release("clReleaseKernel", k));
            if (!prog.equals(MemorySegment.NULL)) {
                cl.release("clReleaseProgram", prog);
            }
            if (!q.equals(MemorySegment.NULL)) {
                cl.release("clReleaseCommandQueue", q);
            }
            cl.release("clReleaseContext", ctx);
            arena.close();
            throw e;
        }
        this.context = ctx;
        this.queue = q;
        this.program = prog;
    }

    /**
     * Opens device {@code index} of {@link OpenClDevices#probe()}'s list, or with {@code index < 0}
     * the first GPU (else the first device).
     *
     * @throws OpenClException when OpenCL is missing, there is no such device, or a call fails
     */
    public static OpenClBackend open(int index) {
        return open(index, kernelSource());
    }

    /** As {@link #open(int)} with other kernel source (tests of the build-log path). */
    static OpenClBackend open(int index, String source) {
        List<OpenClDevices.Handle> all = OpenClDevices.handles();
        if (all.isEmpty()) {
            throw new OpenClException("no OpenCL platform/device found (the ICD loader lists none)", 0);
        }
        OpenClDevices.Handle chosen;
        if (index < 0) {
            chosen = all.stream().filter(h -> h.info().gpu()).findFirst().orElse(all.getFirst());
        } else if (index < all.size()) {
            chosen = all.get(index);
        } else {
            throw new OpenClException("no OpenCL device " + index + " (there are " + all.size()
                    + "; see taipan info --devices)", 0);
        }
        warnWithoutSignalChaining();
        return new OpenClBackend(chosen, source);
    }

    /**
     * OpenCL drivers built on LLVM (PoCL among them) install their own SIGSEGV handlers, replacing
     * the JVM's; a JVM-internal signal then kills the process. Preloading the JDK's libjsig chains
     * the handlers (the {@code taipan} script and the test runs do it).
     */
    private static void warnWithoutSignalChaining() {
        try {
            String maps = Files.readString(Path.of("/proc/self/maps"));
            if (!maps.contains("libjsig")) {
                LOG.log(System.Logger.Level.WARNING, "libjsig is not preloaded: an OpenCL driver that installs"
                        + " signal handlers can crash the JVM; start java with LD_PRELOAD="
                        + System.getProperty("java.home") + "/lib/libjsig.so");
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot read /proc/self/maps: " + e);
        }
    }

    /** The OpenCL C source of the kernels (resource {@code dev/taipan/opencl/matvec.cl}). */
    static String kernelSource() {
        try (InputStream in = OpenClBackend.class.getResourceAsStream(KERNELS)) {
            if (in == null) {
                throw new IllegalStateException("missing resource dev/taipan/opencl/" + KERNELS);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Device buffers alive in this JVM over all backends (weights and activation buffers). */
    public static int liveBuffers() {
        return LIVE_BUFFERS.get();
    }

    public OpenClDevices.DeviceInfo device() {
        return device;
    }

    /** Bytes of weights uploaded so far. */
    public synchronized long placedBytes() {
        return placedBytes;
    }

    @Override
    public String description() {
        return "opencl device " + device.index() + " (" + device.name() + ")";
    }

    /** Whether {@link #place} uploads tensors of this type and shape. */
    public static boolean supports(Tensor t) {
        return t.shape().rank() >= 2
                && (t.type() == DType.F32 || t.type() == DType.F16 || t.type() == DType.Q8_0 || t.type() == DType.Q4_0);
    }

    @Override
    public synchronized Tensor place(Tensor host) {
        checkOpen();
        if (!supports(host)) {
            return host;
        }
        MemorySegment data = host.data();
        long size = data.byteSize();
        if (size > maxAlloc) {
            LOG.log(System.Logger.Level.WARNING, "tensor '" + host.name() + "' (" + size
                    + " bytes) exceeds the device's largest allocation (" + maxAlloc + "): kept on the CPU");
            return host;
        }
        MemorySegment buf;
        if (data.isNative()) {
            buf = newBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, size, data, host.name());
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment copy = a.allocate(size, 8).copyFrom(data);
                buf = newBuffer(Cl.CL_MEM_READ_ONLY | Cl.CL_MEM_COPY_HOST_PTR, size, copy, host.name());
            }
        }
        buffers.add(buf);
        placedBytes += size;
        return new OpenClTensor(host, this, buf, 0);
    }

    private MemorySegment newBuffer(long flags, long size, MemorySegment hostData, String what) {
        MemorySegment buf = cl.createBuffer(context, flags, size, hostData, "tensor '" + what + "'");
        LIVE_BUFFERS.incrementAndGet();
        return buf;
    }

    /** {@code out[t * rows + r] = w[r] . x[t * cols ..]} on the device, for {@code nTokens >= 1}. */
    synchronized void matmul(OpenClTensor w, float[] out, float[] x, int nTokens) {
        checkOpen();
        int cols = w.cols();
        int rows = Math.toIntExact(w.rows());
        int nIn = nTokens * cols;
        int nOut = nTokens * rows;
        reserve(4L * nIn, 4L * nOut);
        MemorySegment.copy(x, 0, xStage, JAVA_FLOAT, 0, nIn);
        cl.writeBuffer(queue, xBuf, 4L * nIn, xStage);
        MemorySegment kernel = kernels.get(w.type());
        args.set(ADDRESS, 0, w.buffer());
        args.set(JAVA_LONG, 8, w.byteOffset());
        args.set(ADDRESS, 16, xBuf);
        args.set(ADDRESS, 24, outBuf);
        args.set(JAVA_INT, 32, cols);
        args.set(JAVA_INT, 36, rows);
        cl.setKernelArg(kernel, 0, 8, args.asSlice(0, 8));
        cl.setKernelArg(kernel, 1, 8, args.asSlice(8, 8));
        cl.setKernelArg(kernel, 2, 8, args.asSlice(16, 8));
        cl.setKernelArg(kernel, 3, 8, args.asSlice(24, 8));
        cl.setKernelArg(kernel, 4, 4, args.asSlice(32, 4));
        cl.setKernelArg(kernel, 5, 4, args.asSlice(36, 4));
        args.set(JAVA_INT, 40, nTokens);
        cl.setKernelArg(kernel, 6, 4, args.asSlice(40, 4));
        args.set(JAVA_LONG, 48, (long) rows * group);
        args.set(JAVA_LONG, 56, (nTokens + TOKEN_TILE - 1) / TOKEN_TILE);
        cl.enqueueNdRange(queue, kernel, args.asSlice(48, 16), args.asSlice(64, 16));
        cl.readBuffer(queue, outBuf, 4L * nOut, outStage);
        MemorySegment.copy(outStage, JAVA_FLOAT, 0, out, 0, nOut);
    }

    /** Grows the activation buffers (device and host staging) to at least these byte sizes. */
    private void reserve(long xBytes, long outBytes) {
        if (xStage.byteSize() < xBytes) {
            releaseBuffer(xBuf);
            long size = Math.max(xBytes, 2 * xStage.byteSize());
            xBuf = MemorySegment.NULL;
            xStage = MemorySegment.NULL;
            xBuf = newBuffer(Cl.CL_MEM_READ_WRITE, size, MemorySegment.NULL, "activations");
            xStage = arena.allocate(size, 64);
        }
        if (outStage.byteSize() < outBytes) {
            releaseBuffer(outBuf);
            long size = Math.max(outBytes, 2 * outStage.byteSize());
            outBuf = MemorySegment.NULL;
            outStage = MemorySegment.NULL;
            outBuf = newBuffer(Cl.CL_MEM_READ_WRITE, size, MemorySegment.NULL, "outputs");
            outStage = arena.allocate(size, 64);
        }
    }

    private void releaseBuffer(MemorySegment buf) {
        if (!buf.equals(MemorySegment.NULL)) {
            LIVE_BUFFERS.decrementAndGet();
            cl.release("clReleaseMemObject", buf);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("OpenCL backend on " + device.name() + " is closed");
        }
    }

    /** Releases every device buffer, the kernels, the program, the queue and the context. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        cl.finish(queue);
        buffers.forEach(this::releaseBuffer);
        buffers.clear();
        releaseBuffer(xBuf);
        releaseBuffer(outBuf);
        kernels.values().forEach(k -> cl.release("clReleaseKernel", k));
        kernels.clear();
        cl.release("clReleaseProgram", program);
        cl.release("clReleaseCommandQueue", queue);
        cl.release("clReleaseContext", context);
        arena.close();
    }
}
