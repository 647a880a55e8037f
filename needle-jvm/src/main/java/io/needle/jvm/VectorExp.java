package io.needle.jvm;

import io.needle.model.Exp;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The engine's exp ({@link Exp#exp}) in Vector API lanes: the same double operations in the same
 * order in every lane (a multiply and an add stay two roundings, the clamps are compares and
 * blends that let NaN through as the scalar code does), so each lane holds {@code Exp.exp} of its
 * input bit for bit. Like {@link VectorCode}, loaded only where {@code jdk.incubator.vector} is.
 */
final class VectorExp {
    /** Double lanes (8 with AVX-512, 4 with AVX2). */
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** As many float lanes as {@link #D} has double lanes. */
    static final VectorSpecies<Float> FD = VectorSpecies.of(float.class, VectorShape.forBitSize(D.length() * 32));

    private VectorExp() {
    }

    /** {@link Exp#exp} of every lane. */
    static DoubleVector exp(DoubleVector x) {
        DoubleVector y = x.blend(Exp.LOWEST, x.compare(VectorOperators.LT, Exp.LOWEST));
        y = y.blend(Exp.HIGHEST, y.compare(VectorOperators.GT, Exp.HIGHEST));
        DoubleVector t = y.mul(Exp.LOG2E).add(Exp.SHIFT);
        DoubleVector k = t.sub(Exp.SHIFT);
        DoubleVector r = y.sub(k.mul(Exp.LN2_HI)).sub(k.mul(Exp.LN2_LO));
        DoubleVector q = r.mul(Exp.C11).add(Exp.C10);
        q = q.mul(r).add(Exp.C9);
        q = q.mul(r).add(Exp.C8);
        q = q.mul(r).add(Exp.C7);
        q = q.mul(r).add(Exp.C6);
        q = q.mul(r).add(Exp.C5);
        q = q.mul(r).add(Exp.C4);
        q = q.mul(r).add(Exp.C3);
        q = q.mul(r).add(Exp.C2);
        DoubleVector p = r.mul(r).mul(q).add(r).add(1.0); // 1 + (r + r·r·q): IEEE addition commutes
        LongVector n = ((LongVector) t.reinterpretAsLongs()).sub(Exp.SHIFT_BITS);
        LongVector n1 = n.lanewise(VectorOperators.ASHR, 1);
        LongVector n2 = n.sub(n1);
        DoubleVector s1 = (DoubleVector) n1.add(Exp.BIAS).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
        DoubleVector s2 = (DoubleVector) n2.add(Exp.BIAS).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
        return p.mul(s1).mul(s2);
    }

    /**
     * The softmax's exponentials in place: {@code a[j] = (float) Exp.exp(a[j] - max)} for j in
     * [from, to) (the subtraction in float, as the portable code), whole vectors then one by one.
     */
    static void expMinus(float[] a, int from, int to, float max) {
        int n = D.length();
        int j = from;
        for (; j + n <= to; j += n) {
            FloatVector s = FloatVector.fromArray(FD, a, j).sub(max);
            DoubleVector e = exp((DoubleVector) s.convertShape(VectorOperators.F2D, D, 0));
            ((FloatVector) e.convertShape(VectorOperators.D2F, FD, 0)).intoArray(a, j);
        }
        for (; j < to; j++) {
            a[j] = (float) Exp.exp(a[j] - max);
        }
    }
}
