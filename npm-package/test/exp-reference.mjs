// io.needle.model.Exp.exp written out in JavaScript, the reference the SIMD kernels' exp is
// compared with: numbers are IEEE doubles and V8 never fuses a multiply and an add, so the same
// operations in the same order give the same bits. The constants are Exp's, given by their bits.
const view = new DataView(new ArrayBuffer(8));

function fromBits(bits) {
  view.setBigInt64(0, BigInt.asIntN(64, bits));
  return view.getFloat64(0);
}

function bitsOf(x) {
  view.setFloat64(0, x);
  return view.getBigInt64(0);
}

const LOWEST = -746;
const HIGHEST = 710;
const SHIFT_BITS = 0x4338000000000000n;
const SHIFT = fromBits(SHIFT_BITS); // 1.5 * 2^52
const LOG2E = fromBits(0x3ff71547652b82fen);
const LN2_HI = fromBits(0x3fe62e42fee00000n);
const LN2_LO = fromBits(0x3dea39ef35793c76n);
const [C2, C3, C4, C5, C6, C7, C8, C9, C10, C11] = [0x3fe0000000000009n, 0x3fc5555555555558n, 0x3fa55555555503e7n,
  0x3f8111111110f805n, 0x3f56c16c18600f62n, 0x3f2a01a01b00b972n, 0x3efa01993b628d70n, 0x3ec71ddf6b597349n,
  0x3e928b40e50912c4n, 0x3e5af6327bb085ebn].map(fromBits);

/** Exp.exp(x): the engine's exponential, bit for bit. */
export function exp(x) {
  let y = x < LOWEST ? LOWEST : x;
  y = y > HIGHEST ? HIGHEST : y;
  const t = y * LOG2E + SHIFT;
  const k = t - SHIFT;
  const r = (y - k * LN2_HI) - k * LN2_LO;
  let q = C11;
  for (const c of [C10, C9, C8, C7, C6, C5, C4, C3, C2]) {
    q = q * r + c;
  }
  const p = 1 + (r + r * r * q);
  const n = bitsOf(t) - SHIFT_BITS;
  const n1 = n >> 1n;
  return p * fromBits((n1 + 1023n) << 52n) * fromBits((n - n1 + 1023n) << 52n);
}
