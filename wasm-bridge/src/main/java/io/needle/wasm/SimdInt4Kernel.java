package io.needle.wasm;

import io.needle.model.Int4Kernel;

/** One INT4 linear computed by needle-simd.wasm (see {@link SimdKernels}). */
final class SimdInt4Kernel implements Int4Kernel {
    private final SimdKernels kernels;
    private final LinearMemory packed; // holds the packed nibbles from byte packedAt
    private final int packedAt;
    private final LinearMemory scales; // holds the group scales (f32) from byte scalesAt
    private final int scalesAt;
    private final int in;
    private final int out;
    private final int group;

    SimdInt4Kernel(SimdKernels kernels, LinearMemory packed, int packedAt, LinearMemory scales, int scalesAt,
            int in, int out, int group) {
        this.kernels = kernels;
        this.packed = packed;
        this.packedAt = packedAt;
        this.scales = scales;
        this.scalesAt = scalesAt;
        this.in = in;
        this.out = out;
        this.group = group;
    }

    @Override
    public void forward(float[] x, float[] y, int rows) {
        LinearMemory xm = kernels.in(4 * rows * in);
        LinearMemory ym = kernels.out(4 * rows * out);
        // the module unpacks rows in pairs: an odd group (g = in < 32, e.g. an FFN of 17) takes
        // group + 1 unpacked rows
        int scratch = rows > 1 ? kernels.scratch(4 * ((group + 1) & ~1) * out).address : 0;
        xm.putFloats(0, x, rows * in);
        SimdModule.int4(xm.address, ym.address, packed.address + packedAt, scales.address + scalesAt,
                rows, in, out, group, scratch);
        ym.getFloats(0, y, 0, rows * out);
    }
}
