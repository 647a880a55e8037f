package io.needle.jvm;

import io.needle.model.Attention;
import io.needle.model.AttentionKernel;
import io.needle.model.Embedding;
import io.needle.model.Int4Kernel;
import io.needle.model.Int4Linear;
import io.needle.model.Kernels;
import io.needle.model.LogitsKernel;

/**
 * The JVM's SIMD kernels ({@link Kernels}) on the Vector API ({@code jdk.incubator.vector}): the
 * INT4 linears (one input row: nibbles unpacked in registers, four vectors of output columns at a
 * time; many rows: each weight group unpacked once, then tiles of 4 rows × 2 vectors of columns)
 * and the BF16 tied output projection (full and {@code logitsAt} subsets, over a copy of the
 * table re-laid in blocks of one vector's width of rows: 2 bytes per weight, 8.4 MB for the
 * full-size model, made at load) and the attention core (scores: one lane per key; weighted
 * values: one lane per dimension; the softmax's exp, {@code io.needle.model.Exp}, stays scalar).
 *
 * <p><b>The same floats, bit for bit.</b> Each vector lane computes a different output value (an
 * output column, a vocabulary row) with exactly the portable kernels' float operations in their
 * order: a multiply and an add stay separate roundings (the Vector API never fuses them unless
 * asked), and no sum is split across lanes or reordered. So the tokens are the portable ones on
 * every host (tests: VectorKernelsTest compares the floats and the tokens with the portable
 * kernels', NeedleParityTest runs the parity fixtures through them). Shapes the vector code does
 * not take (an odd input width, a head width that is not a multiple of the vector width, an F16
 * or F32 embedding) keep the portable kernels; output columns past the last whole vector are
 * computed one at a time with the same operations.
 *
 * <p><b>Where the module is missing.</b> Java 17 to 25 ship the Vector API as an incubator module
 * that a program must add ({@code --add-modules jdk.incubator.vector}, at compile and at run
 * time). This class itself touches no Vector class: {@link #available()} checks the boot layer
 * for the module first, and the vector code lives in a class of its own ({@code VectorCode})
 * that is loaded only then. {@link Needle.Kernels#FASTEST} uses these kernels when available
 * (split over the cores by {@link ParallelKernels}), and {@link ParallelKernels#shared()}'s
 * portable arithmetic otherwise.
 *
 * <p><b>Cold start.</b> A JVM runs Vector API code as slow, allocating plain Java until its
 * optimizing compiler has compiled it (measured: a fresh process's first request 4× slower with
 * 5× the memory). So the kernels run the portable code (the same floats) until a background
 * warm-up has timed each of them faster than the portable code ({@link #warmUp()}); a process
 * answering one short request never switches.
 *
 * <pre>
 * if (VectorKernels.available()) {
 *     NeedleEngine engine = NeedleEngine.load(weights, vocab, VectorKernels.create());
 * }
 * </pre>
 * One instance may serve several engines and threads at once (its work buffers are per thread).
 */
public final class VectorKernels implements Kernels {
    private static volatile Boolean available;

    private VectorKernels() {
    }

    /**
     * Whether the Vector API can be used here: the module {@code jdk.incubator.vector} is in the
     * boot layer and its preferred vectors hold at least 8 floats. Never throws.
     */
    public static boolean available() {
        Boolean a = available;
        if (a == null) {
            boolean yes = false;
            if (bootHasVectorModule()) {
                try {
                    yes = VectorCode.usable();
                } catch (LinkageError | RuntimeException e) {
                    yes = false; // a JVM whose Vector API differs: the portable kernels
                }
            }
            available = a = yes;
        }
        return a;
    }

    /**
     * Whether the boot layer has the Vector API module; a loop over its modules rather than
     * {@code ModuleLayer.findModule}, whose search of the parent layers (a stream) makes the JVM
     * spin a lambda class in a one-shot command line request where the module is absent.
     */
    private static boolean bootHasVectorModule() {
        for (Module m : ModuleLayer.boot().modules()) {
            if ("jdk.incubator.vector".equals(m.getName())) {
                return true;
            }
        }
        return false;
    }

    /** The Vector API kernels; only when {@link #available()}. */
    public static VectorKernels create() {
        if (!available()) {
            throw new IllegalStateException("the Vector API is not available in this JVM"
                    + " (run it with --add-modules jdk.incubator.vector)");
        }
        return new VectorKernels();
    }

    /**
     * Waits until the Vector API code is compiled and in use (a server may call this once at
     * start). Until then, the kernels run the portable code (the same floats): a JVM runs a Vector
     * API method as slow, allocating plain Java until its optimizing compiler has compiled it, so
     * a daemon thread (started here, or by the kernels themselves after about 2 G multiply-adds of
     * portable INT4 work: three or four short requests, or the first layers of a long prompt)
     * first runs each kernel on a small problem of its own and switches it over
     * once it times faster than the portable code (2-3 s of one core on this project's machines;
     * after 30 s without that, the portable code stays). A process answering one short request
     * and exiting never starts it, and runs the portable code throughout.
     */
    public static void warmUp() throws InterruptedException {
        if (available()) {
            VectorCode.awaitWarmUp();
        }
    }

    /** Whether every kernel has switched to the Vector API code ({@link #warmUp()}). */
    public static boolean warm() {
        return available() && VectorCode.hot();
    }

    /** What the kernels run on, for example "16 float lanes (512-bit vectors)"; "not available" otherwise. */
    public static String describe() {
        return available() ? VectorCode.describe() : "not available";
    }

    @Override
    public Int4Kernel int4(Int4Linear linear) {
        return VectorCode.int4(linear);
    }

    @Override
    public LogitsKernel logits(Embedding embedding) {
        return VectorCode.logits(embedding);
    }

    @Override
    public AttentionKernel attention(Attention attention) {
        return VectorCode.attention(attention);
    }
}
