// Incremental hashes for checking downloads while they arrive: SHA-256 (what Hugging Face
// announces for large files) and SHA-1 (git's blob ids, its ETag of small files). WebCrypto's
// digest() only takes a whole buffer, so: Node's own hashes where there are
// (process.getBuiltinModule, Node >= 22.3), crypto.DigestStream in Cloudflare Workers, and the
// portable code below elsewhere (browsers).

/**
 * A hash fed piece by piece: update(bytes) any number of times (the bytes are not changed; where
 * the hash runs beside the caller (Workers' DigestStream), update returns a promise that settles
 * once it has hashed them, and until then it reads them where they are: a caller that reuses its
 * buffer awaits it first), then `await hex()` once for the lower-case hex digest.
 * `portable: true` forces the JavaScript implementation.
 */
export function createHash(algorithm, { portable = false } = {}) {
  if (algorithm !== "sha256" && algorithm !== "sha1") {
    throw new TypeError("unknown hash " + algorithm);
  }
  if (!portable) {
    const nodeCrypto = builtinCrypto();
    if (nodeCrypto !== null) {
      const h = nodeCrypto.createHash(algorithm);
      return { update: (bytes) => { h.update(bytes); }, hex: async () => h.digest("hex") };
    }
    const DigestStream = globalThis.crypto?.DigestStream;
    if (typeof DigestStream === "function") {
      return digestStream(DigestStream, algorithm === "sha256" ? "SHA-256" : "SHA-1");
    }
  }
  const h = algorithm === "sha256" ? new Sha256() : new Sha1();
  return { update: (bytes) => h.update(bytes), hex: async () => h.hex() };
}

/** The git blob id of `bytes`: sha1("blob " + length + "\0" + bytes), what `git hash-object` prints. */
export async function gitBlobSha1(bytes, options) {
  const h = createHash("sha1", options);
  h.update(new TextEncoder().encode("blob " + bytes.length + "\0"));
  h.update(bytes);
  return h.hex();
}

function builtinCrypto() {
  try {
    const get = globalThis.process?.getBuiltinModule;
    return typeof get === "function" ? get("node:crypto") ?? null : null;
  } catch {
    return null;
  }
}

/** Cloudflare Workers' native streaming digest (a WritableStream whose `digest` is the result). */
function digestStream(DigestStream, name) {
  const stream = new DigestStream(name);
  const writer = stream.getWriter();
  let failure = null;
  return {
    // no copy (it would be garbage as large as the file): workerd's DigestStream keeps a reference
    // to the bytes until its sink has hashed them (synchronously, at the write), and the write's
    // promise settles then; a caller refilling its buffer awaits it (workerd-digest.test.mjs)
    update: (bytes) => writer.write(bytes).catch((e) => { failure ??= e; }),
    hex: async () => {
      await writer.close();
      const digest = new Uint8Array(await stream.digest);
      if (failure !== null) {
        throw failure;
      }
      let out = "";
      for (const b of digest) {
        out += b.toString(16).padStart(2, "0");
      }
      return out;
    },
  };
}

/** The 64-byte block machinery SHA-256 and SHA-1 share (big-endian, 64-bit bit length). */
class BlockHash {
  constructor() {
    this.block = new Uint8Array(64);
    this.view = new DataView(this.block.buffer);
    this.used = 0; // bytes in block
    this.length = 0; // bytes hashed so far
    this.done = false;
  }

  update(bytes) {
    if (this.done) {
      throw new Error("the hash is finished");
    }
    let i = 0;
    const n = bytes.length;
    this.length += n;
    if (this.used > 0) {
      const take = Math.min(64 - this.used, n);
      this.block.set(bytes.subarray(0, take), this.used);
      this.used += take;
      i = take;
      if (this.used < 64) {
        return;
      }
      this.compress(this.view, 0);
      this.used = 0;
    }
    if (n - i >= 64) {
      const whole = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (; n - i >= 64; i += 64) {
        this.compress(whole, i);
      }
    }
    if (i < n) {
      this.block.set(bytes.subarray(i), 0);
      this.used = n - i;
    }
  }

  hex() {
    if (this.done) {
      throw new Error("the hash is finished");
    }
    const bits = this.length * 8;
    const tail = new Uint8Array(((this.used + 8) >> 6) * 64 + 64 - this.used);
    tail[0] = 0x80;
    const v = new DataView(tail.buffer);
    v.setUint32(tail.length - 8, Math.floor(bits / 0x100000000));
    v.setUint32(tail.length - 4, bits >>> 0);
    this.update(tail);
    this.done = true;
    let out = "";
    for (const word of this.state) {
      out += (word >>> 0).toString(16).padStart(8, "0");
    }
    return out;
  }
}

const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 (FIPS 180-4). */
class Sha256 extends BlockHash {
  constructor() {
    super();
    this.state = new Int32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]);
    this.w = new Int32Array(64);
  }

  compress(view, at) {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      w[t] = view.getInt32(at + 4 * t);
    }
    for (let t = 16; t < 64; t++) {
      const a = w[t - 15];
      const b = w[t - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
    }
    const s = this.state;
    let a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K256[t] + w[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
    s[4] = (s[4] + e) | 0;
    s[5] = (s[5] + f) | 0;
    s[6] = (s[6] + g) | 0;
    s[7] = (s[7] + h) | 0;
  }
}

/** SHA-1 (FIPS 180-4), for git's blob ids only. */
class Sha1 extends BlockHash {
  constructor() {
    super();
    this.state = new Int32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
    this.w = new Int32Array(80);
  }

  compress(view, at) {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      w[t] = view.getInt32(at + 4 * t);
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    const s = this.state;
    let a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
    for (let t = 0; t < 80; t++) {
      let f;
      let k;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    s[0] = (s[0] + a) | 0;
    s[1] = (s[1] + b) | 0;
    s[2] = (s[2] + c) | 0;
    s[3] = (s[3] + d) | 0;
    s[4] = (s[4] + e) | 0;
  }
}
