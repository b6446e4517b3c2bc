package dev.taipan.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Off-heap memory for large read-mostly buffers (the repacked weight matrices) backed by
 * transparent huge pages where the OS has them: on Linux an anonymous {@code mmap} of whole 2 MiB
 * pages with {@code madvise(MADV_HUGEPAGE)} (THP is often "madvise" only), freed with
 * {@code munmap} when the arena closes. Streaming a weight matrix then walks one page-table entry per
 * 2 MiB instead of per 4 KiB. Elsewhere, or when a call fails, {@link Arena#allocate} is used. The
 * memory starts zeroed either way.
 */
public final class LargePages {

    private static final System.Logger LOG = System.getLogger(LargePages.class.getName());
    private static final long HUGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final Native NATIVE = Native.load();

    private LargePages() {
    }

    /** {@code bytes} zeroed bytes, 64-byte aligned (2 MiB where huge pages are used), alive as long as {@code arena}. */
    public static MemorySegment allocate(long bytes, Arena arena) {
        if (bytes < HUGE || NATIVE == null) {
            return arena.allocate(bytes, 64);
        }
        long size = (bytes + HUGE - 1) / HUGE * HUGE;
        try {
            MemorySegment p = (MemorySegment) NATIVE.mmap.invokeExact(MemorySegment.NULL, size + HUGE,
                    PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (p.address() == -1L) {
                return arena.allocate(bytes, 64);
            }
            // trim to a 2 MiB-aligned range so every page can be a huge page
            long start = (p.address() + HUGE - 1) & -HUGE;
            long head = start - p.address();
            unmap(p.address(), head);
            unmap(start + size, HUGE - head);
            MemorySegment region = MemorySegment.ofAddress(start);
            int advised = (int) NATIVE.madvise.invokeExact(region, size, MADV_HUGEPAGE);
            if (advised != 0) {
                LOG.log(System.Logger.Level.DEBUG, "madvise(MADV_HUGEPAGE) refused; small pages");
            }
            return region.reinterpret(size, arena, s -> unmap(s.address(), size)).asSlice(0, bytes);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.DEBUG, String.format(Locale.ROOT, "mmap of %d bytes failed (%s); Arena.allocate", bytes, t));
            return arena.allocate(bytes, 64);
        }
    }

    private static void unmap(long address, long length) {
        if (length == 0) {
            return;
        }
        try {
            int r = (int) NATIVE.munmap.invokeExact(MemorySegment.ofAddress(address), length);
            if (r != 0) {
                LOG.log(System.Logger.Level.WARNING, "munmap failed for " + length + " bytes");
            }
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed", t);
        }
    }

    /** libc's mmap, madvise and munmap; null where they are not found (not Linux). */
    private record Native(MethodHandle mmap, MethodHandle madvise, MethodHandle munmap) {
        static Native load() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                return new Native(
                        linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)),
                        linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)),
                        linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_LONG)));
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.DEBUG, "no libc mmap: " + e);
                return null;
            }
        }
    }
}
