package io.needle.model;

/**
 * The engine's own exponential function: the same double, bit for bit, on every host and in every
 * lane width, because it is made of plain IEEE-754 double operations ({@code + - * /}, compares,
 * and moving bits between a double and a long) in one fixed order, never a library {@code exp}.
 * {@code Math.exp} may differ in the last bit between the JVM's intrinsic, {@code StrictMath}
 * and JavaScript's {@code Math.exp}; this one cannot. The Java Vector API kernels (needle-jvm
 * {@code VectorCode}) and the Wasm SIMD kernels ({@code npm-package/simd/needle-simd.wat}) run
 * this recipe lane by lane with the constants below, so their floats are the portable ones.
 *
 * <p>The recipe, for x clamped to [{@link #LOWEST}, {@link #HIGHEST}] (NaN passes through):
 * <ol>
 * <li>{@code t = x·LOG2E + SHIFT}: adding 1.5·2<sup>52</sup> rounds x/ln 2 to the nearest
 *     integer k, which then sits in the low bits of t; {@code k = t − SHIFT} (exact);</li>
 * <li>{@code r = (x − k·LN2_HI) − k·LN2_LO}: ln 2 in two parts, the first with 32 significant
 *     bits, so {@code k·LN2_HI} and the first subtraction are exact; |r| ≤ ln 2 / 2;</li>
 * <li>{@code e^r ≈ 1 + (r + r·r·q(r))}, q of degree 9 (coefficients C2..C11 by Horner's rule, a
 *     minimax fit of (e^r − 1 − r)/r² for the relative error of e^r: 8·10<sup>-18</sup>);</li>
 * <li>times 2<sup>k</sup> in two halves, {@code 2^(k>>1)} and {@code 2^(k − (k>>1))}, each a
 *     normal double built from its exponent bits; the first product is exact, so only the last
 *     rounds (which matters where the result overflows or is subnormal).</li>
 * </ol>
 *
 * <p>Accuracy: within about one unit in the last place of the double (ExpTest measures it against
 * {@code StrictMath.exp}); the softmax rounds the result to float, which is then the correctly
 * rounded float but for the rare inputs whose exp lies within a double's error of the midpoint
 * between two floats (and even then one float ulp away at most). Special values: exp(±0) = 1
 * exactly, exp(x) = 0 for x below about −745.2 (so a masked score, −3.4·10<sup>38</sup>, gives
 * 0), +∞ above about 709.8, NaN for NaN.
 */
public final class Exp {
    /** Inputs below this are computed as this (exp(−746) rounds to 0). */
    public static final double LOWEST = -746.0;
    /** Inputs above this are computed as this (exp(710) overflows to +∞). */
    public static final double HIGHEST = 710.0;
    /** 1 / ln 2. */
    public static final double LOG2E = 0x1.71547652b82fep0;
    /** 1.5·2<sup>52</sup>: t = x·LOG2E + SHIFT holds round(x / ln 2) in its low bits. */
    public static final double SHIFT = 0x1.8p52;
    /** The bits of {@link #SHIFT}: bits(t) − SHIFT_BITS = k. */
    public static final long SHIFT_BITS = 0x4338000000000000L;
    /** ln 2 to 32 significant bits (k·LN2_HI is exact for every k used here). */
    public static final double LN2_HI = 0x1.62e42fee00000p-1;
    /** ln 2 − LN2_HI. */
    public static final double LN2_LO = 0x1.a39ef35793c76p-33;
    /** The coefficients of q(r), from r⁰ (C2, near 1/2!) to r⁹ (C11, near 1/11!). */
    public static final double C2 = 0x1.0000000000009p-1;
    public static final double C3 = 0x1.5555555555558p-3;
    public static final double C4 = 0x1.55555555503e7p-5;
    public static final double C5 = 0x1.111111110f805p-7;
    public static final double C6 = 0x1.6c16c18600f62p-10;
    public static final double C7 = 0x1.a01a01b00b972p-13;
    public static final double C8 = 0x1.a01993b628d70p-16;
    public static final double C9 = 0x1.71ddf6b597349p-19;
    public static final double C10 = 0x1.28b40e50912c4p-22;
    public static final double C11 = 0x1.af6327bb085ebp-26;
    /** The exponent bias of a double: the bits of 2<sup>n</sup> are (n + BIAS) &lt;&lt; 52. */
    public static final long BIAS = 1023;

    private Exp() {
    }

    /** e<sup>x</sup> (see the class comment for the recipe every kernel follows). */
    public static double exp(double x) {
        double y = x < LOWEST ? LOWEST : x;
        y = y > HIGHEST ? HIGHEST : y;
        double t = y * LOG2E + SHIFT;
        double k = t - SHIFT;
        double r = (y - k * LN2_HI) - k * LN2_LO;
        double q = C11;
        q = q * r + C10;
        q = q * r + C9;
        q = q * r + C8;
        q = q * r + C7;
        q = q * r + C6;
        q = q * r + C5;
        q = q * r + C4;
        q = q * r + C3;
        q = q * r + C2;
        double p = 1.0 + (r + r * r * q);
        long n = Double.doubleToRawLongBits(t) - SHIFT_BITS;
        long n1 = n >> 1;
        long n2 = n - n1;
        return p * Double.longBitsToDouble((n1 + BIAS) << 52) * Double.longBitsToDouble((n2 + BIAS) << 52);
    }
}
