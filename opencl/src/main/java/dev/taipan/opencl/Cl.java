package dev.taipan.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * Hand-written FFM downcalls into the OpenCL ICD loader {@code libOpenCL.so.1} (signatures of the
 * Khronos {@code CL/cl.h}, OpenCL 1.2; {@code cl_int}/{@code cl_uint} are Java ints, {@code size_t}
 * and the {@code cl_bitfield}s Java longs, handles and pointers {@link MemorySegment}s). Every
 * wrapper checks the status code and throws an {@link OpenClException} naming the function and
 * the CL error. The loader dispatches to whatever drivers are installed (NVIDIA, AMD, Intel, PoCL).
 */
final class Cl {
    static final int CL_SUCCESS = 0;
    static final int CL_TRUE = 1;
    static final long CL_DEVICE_TYPE_GPU = 1L << 2;
    static final long CL_DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    static final int CL_PLATFORM_VERSION = 0x0901;
    static final int CL_PLATFORM_NAME = 0x0902;
    static final int CL_DEVICE_TYPE = 0x1000;
    static final int CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    static final int CL_DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
    static final int CL_DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010;
    static final int CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    static final int CL_DEVICE_NAME = 0x102B;
    static final int CL_DEVICE_VERSION = 0x102F;
    static final long CL_MEM_READ_WRITE = 1L;
    static final long CL_MEM_READ_ONLY = 1L << 2;
    static final long CL_MEM_COPY_HOST_PTR = 1L << 5;
    static final int CL_PROGRAM_BUILD_LOG = 0x1183;
    /** Status the ICD loader returns when no vendor driver (platform) is installed. */
    static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;

    private static final String LIBRARY = "libOpenCL.so.1";

    private final MethodHandle getPlatformIds;
    private final MethodHandle getPlatformInfo;
    private final MethodHandle getDeviceIds;
    private final MethodHandle getDeviceInfo;
    private final MethodHandle createContext;
    private final MethodHandle createCommandQueue;
    private final MethodHandle createBuffer;
    private final MethodHandle enqueueWriteBuffer;
    private final MethodHandle enqueueReadBuffer;
    private final MethodHandle createProgramWithSource;
    private final MethodHandle buildProgram;
    private final MethodHandle getProgramBuildInfo;
    private final MethodHandle createKernel;
    private final MethodHandle setKernelArg;
    private final MethodHandle enqueueNdRangeKernel;
    private final MethodHandle finish;
    private final MethodHandle releaseMemObject;
    private final MethodHandle releaseKernel;
    private final MethodHandle releaseProgram;
    private final MethodHandle releaseCommandQueue;
    private final MethodHandle releaseContext;

    private Cl(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        Binder b = new Binder(linker, lib);
        getPlatformIds = b.bind("clGetPlatformIDs", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        getPlatformInfo = b.bind("clGetPlatformInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        getDeviceIds = b.bind("clGetDeviceIDs", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        getDeviceInfo = b.bind("clGetDeviceInfo", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        createContext = b.bind("clCreateContext", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        createCommandQueue = b.bind("clCreateCommandQueue", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
        createBuffer = b.bind("clCreateBuffer", ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS);
        enqueueWriteBuffer = b.bind("clEnqueueWriteBuffer", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG,
                JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        enqueueReadBuffer = b.bind("clEnqueueReadBuffer", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG,
                JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        createProgramWithSource = b.bind("clCreateProgramWithSource", ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                ADDRESS, ADDRESS);
        buildProgram = b.bind("clBuildProgram", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        getProgramBuildInfo = b.bind("clGetProgramBuildInfo", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG,
                ADDRESS, ADDRESS);
        createKernel = b.bind("clCreateKernel", ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        setKernelArg = b.bind("clSetKernelArg", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS);
        enqueueNdRangeKernel = b.bind("clEnqueueNDRangeKernel", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        finish = b.bind("clFinish", JAVA_INT, ADDRESS);
        releaseMemObject = b.bind("clReleaseMemObject", JAVA_INT, ADDRESS);
        releaseKernel = b.bind("clReleaseKernel", JAVA_INT, ADDRESS);
        releaseProgram = b.bind("clReleaseProgram", JAVA_INT, ADDRESS);
        releaseCommandQueue = b.bind("clReleaseCommandQueue", JAVA_INT, ADDRESS);
        releaseContext = b.bind("clReleaseContext", JAVA_INT, ADDRESS);
    }

    /** Looks every function up in a shared instance; the library stays loaded for the JVM's life. */
    private record Binder(Linker linker, SymbolLookup lib) {
        MethodHandle bind(String name, MemoryLayout result, MemoryLayout... args) {
            MemorySegment symbol = lib.find(name).orElseThrow(() -> new OpenClException(
                    "the OpenCL library has no symbol " + name + " (an OpenCL 1.2 loader is required)", 0));
            return linker.downcallHandle(symbol, FunctionDescriptor.of(result, args));
        }
    }

    private static volatile Cl instance;
    private static volatile String unavailable;

    /**
     * The bindings, loaded once.
     *
     * @throws OpenClException saying why when {@code libOpenCL.so.1} cannot be loaded
     */
    static Cl get() {
        Cl cl = instance;
        if (cl != null) {
            return cl;
        }
        synchronized (Cl.class) {
            if (instance == null && unavailable == null) {
                try {
                    instance = load(LIBRARY);
                } catch (OpenClException e) {
                    unavailable = e.getMessage();
                }
            }
            if (instance == null) {
                throw new OpenClException(unavailable, 0);
            }
            return instance;
        }
    }

    /**
     * Binds every function of {@code library}.
     *
     * @throws OpenClException saying why when it cannot be loaded or lacks a function
     */
    static Cl load(String library) {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new OpenClException("cannot load " + library + " (install an OpenCL ICD loader and a driver,"
                    + " e.g. Debian ocl-icd-libopencl1 + pocl-opencl-icd): " + e.getMessage(), 0);
        }
        return new Cl(lib);
    }

    static void check(String function, int status) {
        if (status != CL_SUCCESS) {
            throw OpenClException.of(function, status, null);
        }
    }

    private static RuntimeException rethrow(String function, Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(function + ": " + t, t);
    }

    int getPlatformIds(int n, MemorySegment platforms, MemorySegment count) {
        try {
            return (int) getPlatformIds.invokeExact(n, platforms, count);
        } catch (Throwable t) {
            throw rethrow("clGetPlatformIDs", t);
        }
    }

    int getDeviceIds(MemorySegment platform, long type, int n, MemorySegment devices, MemorySegment count) {
        try {
            return (int) getDeviceIds.invokeExact(platform, type, n, devices, count);
        } catch (Throwable t) {
            throw rethrow("clGetDeviceIDs", t);
        }
    }

    /** A string-valued platform parameter ({@code CL_PLATFORM_*}). */
    String platformString(MemorySegment platform, int param) {
        return infoString(getPlatformInfo, "clGetPlatformInfo", platform, param);
    }

    /** A string-valued device parameter ({@code CL_DEVICE_*}). */
    String deviceString(MemorySegment device, int param) {
        return infoString(getDeviceInfo, "clGetDeviceInfo", device, param);
    }

    /** A {@code cl_uint} (4-byte) or {@code cl_ulong}/{@code size_t} (8-byte) device parameter. */
    long deviceLong(MemorySegment device, int param, int bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8);
            check("clGetDeviceInfo", info(getDeviceInfo, "clGetDeviceInfo", device, param, bytes, buf,
                    MemorySegment.NULL));
            return bytes == 4 ? Integer.toUnsignedLong(buf.get(JAVA_INT, 0)) : buf.get(JAVA_LONG, 0);
        }
    }

    private String infoString(MethodHandle query, String fn, MemorySegment object, int param) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check(fn, info(query, fn, object, param, 0, MemorySegment.NULL, size));
            long n = size.get(JAVA_LONG, 0);
            MemorySegment buf = a.allocate(Math.max(1, n));
            check(fn, info(query, fn, object, param, n, buf, MemorySegment.NULL));
            return buf.getString(0, StandardCharsets.UTF_8).trim();
        }
    }

    /** {@code clGetPlatformInfo} and {@code clGetDeviceInfo} share this signature. */
    private static int info(MethodHandle query, String fn, MemorySegment object, int param, long size,
            MemorySegment value, MemorySegment sizeRet) {
        try {
            return (int) query.invokeExact(object, param, size, value, sizeRet);
        } catch (Throwable t) {
            throw rethrow(fn, t);
        }
    }

    MemorySegment createContext(MemorySegment device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment devices = a.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device);
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment ctx = (MemorySegment) createContext.invokeExact(MemorySegment.NULL, 1, devices,
                    MemorySegment.NULL, MemorySegment.NULL, err);
            check("clCreateContext", err.get(JAVA_INT, 0));
            return ctx;
        } catch (Throwable t) {
            throw rethrow("clCreateContext", t);
        }
    }

    MemorySegment createCommandQueue(MemorySegment context, MemorySegment device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment q = (MemorySegment) createCommandQueue.invokeExact(context, device, 0L, err);
            check("clCreateCommandQueue", err.get(JAVA_INT, 0));
            return q;
        } catch (Throwable t) {
            throw rethrow("clCreateCommandQueue", t);
        }
    }

    /** A buffer of {@code size} bytes; {@code hostData} (native or NULL) is copied in when given. */
    MemorySegment createBuffer(MemorySegment context, long flags, long size, MemorySegment hostData, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment buf = (MemorySegment) createBuffer.invokeExact(context, flags, size, hostData, err);
            int status = err.get(JAVA_INT, 0);
            if (status != CL_SUCCESS) {
                throw OpenClException.of("clCreateBuffer", status, what + ", " + size + " bytes");
            }
            return buf;
        } catch (Throwable t) {
            throw rethrow("clCreateBuffer", t);
        }
    }

    void writeBuffer(MemorySegment queue, MemorySegment buffer, long bytes, MemorySegment src) {
        try {
            check("clEnqueueWriteBuffer", (int) enqueueWriteBuffer.invokeExact(queue, buffer, CL_TRUE, 0L, bytes,
                    src, 0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow("clEnqueueWriteBuffer", t);
        }
    }

    void readBuffer(MemorySegment queue, MemorySegment buffer, long bytes, MemorySegment dst) {
        try {
            check("clEnqueueReadBuffer", (int) enqueueReadBuffer.invokeExact(queue, buffer, CL_TRUE, 0L, bytes,
                    dst, 0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow("clEnqueueReadBuffer", t);
        }
    }

    /**
     * Compiles {@code source} for {@code device}.
     *
     * @throws OpenClException with the compiler's build log when the build fails
     */
    MemorySegment buildProgram(MemorySegment context, MemorySegment device, String source, String options) {
        MemorySegment program;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment text = a.allocateFrom(source, StandardCharsets.UTF_8);
            MemorySegment strings = a.allocate(ADDRESS);
            strings.set(ADDRESS, 0, text);
            MemorySegment err = a.allocate(JAVA_INT);
            program = (MemorySegment) createProgramWithSource.invokeExact(context, 1, strings,
                    MemorySegment.NULL, err);
            check("clCreateProgramWithSource", err.get(JAVA_INT, 0));
            MemorySegment devices = a.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device);
            int status = (int) buildProgram.invokeExact(program, 1, devices, a.allocateFrom(options),
                    MemorySegment.NULL, MemorySegment.NULL);
            if (status != CL_SUCCESS) {
                String log = buildLog(program, device);
                release("clReleaseProgram", program);
                throw OpenClException.of("clBuildProgram", status, "build log:\n" + log);
            }
            return program;
        } catch (Throwable t) {
            throw rethrow("clBuildProgram", t);
        }
    }

    private String buildLog(MemorySegment program, MemorySegment device) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment size = a.allocate(JAVA_LONG);
            check("clGetProgramBuildInfo", (int) getProgramBuildInfo.invokeExact(program, device,
                    CL_PROGRAM_BUILD_LOG, 0L, MemorySegment.NULL, size));
            long n = size.get(JAVA_LONG, 0);
            MemorySegment buf = a.allocate(Math.max(1, n));
            check("clGetProgramBuildInfo", (int) getProgramBuildInfo.invokeExact(program, device,
                    CL_PROGRAM_BUILD_LOG, n, buf, MemorySegment.NULL));
            return buf.getString(0, StandardCharsets.UTF_8).strip();
        }
    }

    MemorySegment createKernel(MemorySegment program, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(JAVA_INT);
            MemorySegment k = (MemorySegment) createKernel.invokeExact(program, a.allocateFrom(name), err);
            int status = err.get(JAVA_INT, 0);
            if (status != CL_SUCCESS) {
                throw OpenClException.of("clCreateKernel", status, "kernel '" + name + "'");
            }
            return k;
        } catch (Throwable t) {
            throw rethrow("clCreateKernel", t);
        }
    }

    /** Argument {@code index} from {@code size} bytes at {@code value} (native). */
    void setKernelArg(MemorySegment kernel, int index, long size, MemorySegment value) {
        try {
            int status = (int) setKernelArg.invokeExact(kernel, index, size, value);
            if (status != CL_SUCCESS) {
                throw OpenClException.of("clSetKernelArg", status, "argument " + index);
            }
        } catch (Throwable t) {
            throw rethrow("clSetKernelArg", t);
        }
    }

    /** Enqueues a 2-D range; {@code global} and {@code local} hold two {@code size_t}s each. */
    void enqueueNdRange(MemorySegment queue, MemorySegment kernel, MemorySegment global, MemorySegment local) {
        try {
            check("clEnqueueNDRangeKernel", (int) enqueueNdRangeKernel.invokeExact(queue, kernel, 2,
                    MemorySegment.NULL, global, local, 0, MemorySegment.NULL, MemorySegment.NULL));
        } catch (Throwable t) {
            throw rethrow("clEnqueueNDRangeKernel", t);
        }
    }

    void finish(MemorySegment queue) {
        try {
            check("clFinish", (int) finish.invokeExact(queue));
        } catch (Throwable t) {
            throw rethrow("clFinish", t);
        }
    }

    /** Releases a CL object with {@code function} (one of the clRelease* names). */
    void release(String function, MemorySegment object) {
        MethodHandle h = switch (function) {
            case "clReleaseMemObject" -> releaseMemObject;
            case "clReleaseKernel" -> releaseKernel;
            case "clReleaseProgram" -> releaseProgram;
            case "clReleaseCommandQueue" -> releaseCommandQueue;
            case "clReleaseContext" -> releaseContext;
            default -> throw new IllegalArgumentException("not a release function: " + function);
        };
        try {
            check(function, (int) h.invokeExact(object));
        } catch (Throwable t) {
            throw rethrow(function, t);
        }
    }
}
