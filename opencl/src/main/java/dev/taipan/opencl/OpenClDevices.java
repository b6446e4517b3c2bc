package dev.taipan.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The OpenCL devices of every installed platform, numbered in platform order then device order:
 * the index {@code --device I} selects. {@link #probe()} never throws: it says why there are none.
 */
public final class OpenClDevices {

    /** What is installed: the devices, or why there are none ({@code reason} is empty when some exist). */
    public record Probe(List<DeviceInfo> devices, String reason) {
        public boolean available() {
            return !devices.isEmpty();
        }
    }

    /**
     * One device.
     *
     * @param index          position in {@link #probe()}'s list
     * @param platform       platform name and version, e.g. {@code Portable Computing Language (OpenCL 3.0 PoCL ...)}
     * @param name           device name
     * @param gpu            whether it reports {@code CL_DEVICE_TYPE_GPU}
     * @param version        {@code CL_DEVICE_VERSION}
     * @param computeUnits   {@code CL_DEVICE_MAX_COMPUTE_UNITS}
     * @param globalMemBytes {@code CL_DEVICE_GLOBAL_MEM_SIZE}
     */
    public record DeviceInfo(int index, String platform, String name, boolean gpu, String version,
            int computeUnits, long globalMemBytes) {

        /** One line for {@code taipan info --devices}. */
        public String describe() {
            return String.format(Locale.ROOT, "%d: %s [%s, %d compute units, %.1f GiB] on %s (%s)", index, name,
                    gpu ? "GPU" : "non-GPU", computeUnits, globalMemBytes / (double) (1L << 30), platform, version);
        }
    }

    /** A device and its platform handle (valid while the library is loaded). */
    record Handle(DeviceInfo info, MemorySegment device) {
    }

    private OpenClDevices() {
    }

    /** Lists the devices; empty with a reason when the library or any platform is missing. */
    public static Probe probe() {
        try {
            List<DeviceInfo> infos = new ArrayList<>();
            for (Handle h : handles()) {
                infos.add(h.info());
            }
            return new Probe(List.copyOf(infos), infos.isEmpty() ? "no OpenCL device found" : "");
        } catch (OpenClException e) {
            return new Probe(List.of(), e.getMessage());
        }
    }

    /**
     * Every device of every platform.
     *
     * @throws OpenClException when the library cannot load or a query fails; an ICD loader with no
     *                         platform yields an empty list
     */
    static List<Handle> handles() {
        Cl cl = Cl.get();
        List<Handle> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_INT);
            int status = cl.getPlatformIds(0, MemorySegment.NULL, count);
            if (status == Cl.CL_PLATFORM_NOT_FOUND_KHR) {
                return out;
            }
            Cl.check("clGetPlatformIDs", status);
            int nPlatforms = count.get(JAVA_INT, 0);
            if (nPlatforms == 0) {
                return out;
            }
            MemorySegment platforms = a.allocate(ADDRESS, nPlatforms);
            Cl.check("clGetPlatformIDs", cl.getPlatformIds(nPlatforms, platforms, MemorySegment.NULL));
            for (int p = 0; p < nPlatforms; p++) {
                MemorySegment platform = platforms.getAtIndex(ADDRESS, p);
                String platformName = cl.platformString(platform, Cl.CL_PLATFORM_NAME) + " ("
                        + cl.platformString(platform, Cl.CL_PLATFORM_VERSION) + ")";
                status = cl.getDeviceIds(platform, Cl.CL_DEVICE_TYPE_ALL, 0, MemorySegment.NULL, count);
                if (status == -1) {
                    continue;
                }
                Cl.check("clGetDeviceIDs", status);
                int nDevices = count.get(JAVA_INT, 0);
                MemorySegment devices = a.allocate(ADDRESS, Math.max(1, nDevices));
                Cl.check("clGetDeviceIDs", cl.getDeviceIds(platform, Cl.CL_DEVICE_TYPE_ALL, nDevices, devices,
                        MemorySegment.NULL));
                for (int d = 0; d < nDevices; d++) {
                    MemorySegment dev = devices.getAtIndex(ADDRESS, d);
                    boolean gpu = (cl.deviceLong(dev, Cl.CL_DEVICE_TYPE, 8) & Cl.CL_DEVICE_TYPE_GPU) != 0;
                    DeviceInfo info = new DeviceInfo(out.size(), platformName,
                            cl.deviceString(dev, Cl.CL_DEVICE_NAME), gpu,
                            cl.deviceString(dev, Cl.CL_DEVICE_VERSION),
                            (int) cl.deviceLong(dev, Cl.CL_DEVICE_MAX_COMPUTE_UNITS, 4),
                            cl.deviceLong(dev, Cl.CL_DEVICE_GLOBAL_MEM_SIZE, 8));
                    out.add(new Handle(info, dev));
                }
            }
        }
        return out;
    }
}
