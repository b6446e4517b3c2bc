package dev.taipan.tensor;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.OptionalLong;

/**
 * The two HotSpot limits that decide whether C2 compiles Taipan's Vector API kernels into their
 * short form, and how to check them in the running JVM.
 *
 * <p>A Vector API kernel such as {@code RepackedQ4_0.groups} inlines thousands of JDK methods
 * ({@code lanewiseTemplate}, {@code AbstractVector.check}, {@code convert0}, ...) into one
 * compilation. C2 adds up, over every inlined copy, the traps and recompilations that the
 * process has recorded for each of these shared methods (their profiles are polluted by every
 * other kernel), and once the sum reaches {@code PerMethodTrapLimit} (100) or half of
 * {@code PerMethodRecompilationCutoff} (400) it stops pruning never-taken branches and
 * speculating on classes for the rest of the method: the species checks stay as calls and the
 * code grows. Where the sums cross the limits depends on the order in which the warm-up ran,
 * so each process gets its own code. Measured with {@code -XX:+LogCompilation} on the
 * granitehybrid Q4_0 bench model (thirteenth session, benchmarks/README.md): the kernel's
 * compiled size was 7.5 to 12.3 KB across five processes of one build, and decode ran at 110
 * down to 85 tok/s in the same order. With both limits raised (to 100,000 in five processes, then
 * to {@link #LIMIT} through the launcher in three) every process compiled it at 7.8 to 7.9 KB and
 * decoded at 71 to 85 % of the measured read bandwidth, against 48 to 74 % before.
 *
 * <p><b>Loop-carried receivers.</b> A second way the same kernels lose their short form does not
 * depend on these limits, and kernel code avoids it instead: a vector that a loop carries (an
 * accumulator) must not be the receiver of the Vector API's convenience methods ({@code add},
 * {@code mul}, {@code sub}, {@code max}, ...), which call {@code lanewise} virtually inside the
 * JDK's shared code. C2 inlines the Vector API intrinsics of a large kernel late, so when it comes
 * to such a call the loop's phi is still typed as the abstract {@code ShortVector}, and it can
 * only devirtualize the call from the receiver profile that the JDK method has gathered from every
 * caller in the process. Where that profile is polluted or missing, each call stays virtual, and
 * the kernel runs the Vector API's scalar fallback: a 64-token Q4_0 prefill matmul took 348 ms
 * instead of 0.9 ms after other code had used ShortVector/IntVector/FloatVector of four shapes
 * ({@code KernelProbe profiles}), and about one granitehybrid bench process in seven prefilled at
 * 4 tok/s instead of 250 (twenty-third session, benchmarks/README.md). Written as
 * {@code acc = x.mul(y).add(acc)} (integer sums are exact in any order; a float {@code add} or
 * {@code max} is commutative bit for bit), or as {@code acc.lanewise(OP, x)}, whose call site and
 * profile are the kernel's own, every receiver has its exact type or a profile of one type.
 *
 * <p>The limits are JVM options and cannot be changed once the JVM runs: the {@code taipan}
 * launcher, {@code .mvn/jvm.config} (the REPL through {@code exec:java}) and the test and
 * benchmark forks pass {@link #OPTIONS}; applications that embed Taipan should pass them too.
 */
public final class JitLimits {

    /** The value given to both limits: far above the sums Taipan's kernels reach (about 400). */
    public static final long LIMIT = 10_000;

    /** The JVM option that raises the trap limit (a constant, for JMH's {@code @Fork} annotations). */
    public static final String TRAP_LIMIT_OPTION = "-XX:PerMethodTrapLimit=" + LIMIT;

    /** The JVM option that raises the recompilation cutoff (a constant, for JMH's {@code @Fork} annotations). */
    public static final String RECOMPILATION_CUTOFF_OPTION = "-XX:PerMethodRecompilationCutoff=" + LIMIT;

    /** The JVM options that raise both limits. */
    public static final List<String> OPTIONS = List.of(TRAP_LIMIT_OPTION, RECOMPILATION_CUTOFF_OPTION);

    private JitLimits() {
    }

    /**
     * Whether the running JVM has both limits at {@link #LIMIT} or above ({@code
     * PerMethodRecompilationCutoff} -1 means no limit); false where they cannot be read (not
     * HotSpot).
     */
    public static boolean raised() {
        OptionalLong traps = option("PerMethodTrapLimit");
        OptionalLong recompiles = option("PerMethodRecompilationCutoff");
        return traps.isPresent() && traps.getAsLong() >= LIMIT
                && recompiles.isPresent() && (recompiles.getAsLong() >= LIMIT || recompiles.getAsLong() < 0);
    }

    /** The value of the HotSpot option {@code name}, or empty where the JVM does not have it. */
    static OptionalLong option(String name) {
        try {
            HotSpotDiagnosticMXBean bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return bean == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(bean.getVMOption(name).getValue()));
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            return OptionalLong.empty();
        }
    }
}
