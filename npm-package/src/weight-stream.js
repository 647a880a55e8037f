// A weight file read from a stream straight into the engine (NeedleWasm.loadStream, loadModel):
// the SafeTensors header first (its 8-byte length, then the JSON, which says where the data ends),
// then the engine reserves the file's block in the WebAssembly linear memory and each chunk is
// copied to its offset there as it arrives. No array of the whole file is ever made outside the
// linear memory, and a byte stream (a fetch or R2 body) is read into one reused buffer, so that
// the chunks leave no garbage either: each is copied and hashed (awaited) before the next read. Without the SIMD kernels the engine keeps the file in a Java array, which needs
// the whole file at once: the chunks are then gathered into one array of the file's length.
//
// Errors a caller can cause come out as one NeedleError: WEIGHTS when the bytes do not make the
// file the header or the stream announce (too few, too many, a bad header), DOWNLOAD when the
// stream itself fails or the bytes are not the expected ones (a hash check), INPUT for a source or
// chunk that is no stream of bytes. The reserved block is then given back for the next load.

import { NeedleError } from "./api.js";

/** SafeTensors' limit on the JSON header (the engine's too). */
const MAX_HEADER_LENGTH = 100_000_000;
/**
 * The one buffer a byte stream is read into (a BYOB reader), reused for every chunk: the stream
 * makes no array per chunk, which would be garbage once copied (22 MB for the full-size model).
 * 256 KiB: in workerd the process's RSS was about 1 MiB lower than with 64 KiB (BENCHMARKS.md).
 */
const BYOB_CHUNK = 256 * 1024;
/** The largest file the engine takes (its lengths are Java ints). */
const MAX_FILE_LENGTH = 0x7fffffff;

/**
 * Reads `source` into the engine. Options: raw (the bridge's exports), call (runs a raw call,
 * turning the engine's errors into NeedleErrors), simd (use the SIMD kernels:
 * the file only in the linear memory), length (the caller's announced length, or null), vocab (a
 * function giving the vocabulary text or a promise of it, called once the bytes are in), hash
 * (length → { update(bytes), result() }: fed every byte in order, or null), check (async, given
 * hash.result()'s value: throws to refuse the bytes, before the engine is made), beforeFinish
 * (async, given read(offset, n) → a copy of the file's bytes, and the length: once checked, before the engine is
 * made, which may then change its block), onProgress(loaded, total). Resolves to { engine (raw),
 * length, hashed (what check was given) }.
 */
export async function streamWeights(source, { raw, call, simd, length: given = null, vocab, hash = null, check = null,
  beforeFinish = null, onProgress = null }) {
  const chunks = chunksOf(source);
  const announced = given !== null ? { length: given, by: "options.length" } : chunks.announced;
  const sink = simd ? linearMemorySink(raw, call) : gatheringSink(raw, call);
  let hasher = null;
  let opened = false;
  let ended = false;
  try {
    // the head: the 8-byte length prefix and the JSON header, perhaps spread over many chunks
    const pending = [];
    let received = 0;
    const take = async (need, where) => {
      while (received < need) {
        const chunk = await chunks.next();
        if (chunk === null) {
          ended = true;
          throw new NeedleError("WEIGHTS", "the weights ended after " + received + " bytes, " + where);
        }
        pending.push(chunk.slice()); // kept across reads: the source may refill its buffer at the next one
        received += chunk.length;
      }
    };
    await take(8, "inside the 8-byte header length of a SafeTensors file");
    const prefix = concat(pending, 8);
    const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
    const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
    if (n > MAX_HEADER_LENGTH) {
      throw new NeedleError("WEIGHTS", "the weights are not a SafeTensors file: the header length " + n
          + " exceeds the format's limit of " + MAX_HEADER_LENGTH + " bytes");
    }
    if (announced !== null && 8 + n > announced.length) {
      throw new NeedleError("WEIGHTS", "the weights' SafeTensors header (" + (8 + n) + " bytes with its length prefix) is longer than the "
          + announced.length + " bytes " + announced.by + " announces");
    }
    await take(8 + n, "inside their SafeTensors header (" + (8 + n) + " bytes with its length prefix)");
    const head = concat(pending, 8 + n);
    const described = describedLength(head);
    if (announced !== null && described !== null && described !== announced.length) {
      throw new NeedleError("WEIGHTS", "the weights' SafeTensors header describes a file of " + described
          + " bytes, but " + announced.by + " announces " + announced.length);
    }
    const length = announced?.length ?? described ?? 8 + n; // (the last: the engine names the header's problem)
    const by = announced?.by ?? "their SafeTensors header";
    if (length > MAX_FILE_LENGTH) {
      throw new NeedleError("WEIGHTS", "the weights are " + length + " bytes (" + by + "); the engine takes at most "
          + MAX_FILE_LENGTH);
    }
    const longer = () => new NeedleError("WEIGHTS", "the weights go on past the " + length + " bytes " + by
        + (announced === null ? " describes" : " announces"));
    if (received > length) {
      throw longer();
    }
    hasher = hash?.(length) ?? null;
    sink.open(head, length);
    opened = true;
    let at = 0;
    const put = async (chunk) => {
      sink.write(at, chunk);
      at += chunk.length;
      if (hasher !== null) {
        await hasher.update(chunk);
      }
      onProgress?.(at, length);
    };
    for (const chunk of pending) {
      await put(chunk);
    }
    pending.length = 0;
    while (at < length) {
      const chunk = await chunks.next();
      if (chunk === null) {
        ended = true;
        throw new NeedleError("WEIGHTS", "the weights ended after " + at + " of the " + length + " bytes " + by
            + (announced === null ? " describes" : " announces"));
      }
      if (at + chunk.length > length) {
        throw longer();
      }
      await put(chunk);
    }
    // the whole file is in: the source must end here
    for (;;) {
      const chunk = await chunks.next();
      if (chunk === null) {
        ended = true;
        break;
      }
      if (chunk.length > 0) {
        throw longer();
      }
    }
    const hashed = hasher === null ? null : await hasher.result();
    if (check !== null) {
      await check(hashed);
    }
    if (beforeFinish !== null) {
      await beforeFinish((offset, count) => sink.read(offset, count), length);
    }
    const text = await vocab();
    opened = false; // the engine takes the block, or gives it back when it fails
    return { engine: sink.finish(text), length, hashed };
  } catch (e) {
    if (opened) {
      sink.release();
    }
    if (!ended) {
      await chunks.cancel(e);
    }
    throw e;
  }
}

/**
 * The file length a SafeTensors header describes (where the last tensor's data ends), from its
 * bytes (length prefix and JSON); null when the header is not JSON of entries with data_offsets
 * (the engine then names the problem).
 */
function describedLength(head) {
  let header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(8)));
  } catch {
    return null;
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    return null;
  }
  let end = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      continue;
    }
    const offsets = entry?.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !Number.isSafeInteger(offsets[1]) || offsets[1] < 0) {
      return null;
    }
    end = Math.max(end, offsets[1]);
  }
  return head.length + end;
}

/** The first `n` bytes of the chunks, as one new array. */
function concat(chunks, n) {
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    if (at >= n) {
      break;
    }
    const part = c.subarray(0, Math.min(c.length, n - at));
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The file's block in the linear memory: reserved by the engine once the header is read (which it
 * checks), filled chunk by chunk. The memory's buffer is looked up at each write: the memory may
 * grow (and its old buffer be detached) while the bytes arrive.
 */
function linearMemorySink(raw, call) {
  let upload = null;
  let address = 0;
  return {
    open(head, length) {
      upload = call(() => raw.reserveSimd(new Int8Array(head.buffer, head.byteOffset, head.length), length));
      address = upload.address;
    },
    write(at, chunk) {
      new Uint8Array(raw.memory.buffer, address + at, chunk.length).set(chunk);
    },
    read(at, n) {
      return new Uint8Array(raw.memory.buffer, address + at, n).slice();
    },
    finish(vocab) {
      return call(() => upload.finish(vocab));
    },
    release() {
      upload.release();
    },
  };
}

/** The file gathered into one array (the portable kernels keep it in a Java array anyway). */
function gatheringSink(raw, call) {
  let bytes = null;
  return {
    open(head, length) {
      bytes = new Uint8Array(length);
    },
    write(at, chunk) {
      bytes.set(chunk, at);
    },
    read(at, n) {
      return bytes.slice(at, at + n);
    },
    finish(vocab) {
      const b = bytes;
      bytes = null;
      return call(() => raw.load(new Int8Array(b.buffer, b.byteOffset, b.length), vocab));
    },
    release() {
      bytes = null;
    },
  };
}

/**
 * The chunks of a Response, a ReadableStream of bytes or an (async) iterable of byte chunks, as
 * { next() (a Uint8Array, or null at the end), cancel(reason), announced ({ length, by } from a
 * Response's Content-Length, or null) }. A chunk is only valid until the next call of next(): a
 * byte stream (a fetch body, an R2 object's, `type: "bytes"`) is read with a BYOB reader into one
 * reused buffer, and an iterable may hand its own buffer again; other streams are read with the
 * default reader.
 */
function chunksOf(source) {
  if (source === null || typeof source !== "object") {
    throw new NeedleError("INPUT", "the weight stream must be a Response, a ReadableStream of bytes or an "
        + "(async) iterable of byte chunks, got " + (source === null ? "null" : typeof source));
  }
  let announced = null;
  let stream = source;
  if (typeof Response !== "undefined" && source instanceof Response) {
    const where = source.url ? " from " + source.url : "";
    if (!source.ok) {
      throw new NeedleError("DOWNLOAD", "could not read the weights" + where + ": HTTP " + source.status
          + (source.statusText ? " " + source.statusText : ""));
    }
    if (source.bodyUsed) {
      throw new NeedleError("INPUT", "the weights' Response" + where + " was already read (its body is used)");
    }
    const length = Number(source.headers.get("content-length") ?? NaN);
    const encoding = (source.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
    // with a content encoding, Content-Length counts the encoded bytes, not the file's
    if (Number.isSafeInteger(length) && length >= 0 && (encoding === "identity" || encoding === "")) {
      announced = { length, by: "Content-Length" };
    }
    stream = source.body;
    if (stream === null) {
      return { announced, next: async () => null, cancel: async () => {} };
    }
  }
  let position = 0; // chunks so far, for messages
  const bytesOf = (value) => {
    position++;
    if (value instanceof Uint8Array) {
      return value;
    }
    if (value instanceof ArrayBuffer) {
      return new Uint8Array(value);
    }
    if (ArrayBuffer.isView(value)) {
      return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    }
    throw new NeedleError("INPUT", "chunk " + position + " of the weight stream is not bytes (a Uint8Array, "
        + "ArrayBuffer or view), got " + (value === null ? "null" : value?.constructor?.name ?? typeof value));
  };
  const failed = (e) => e instanceof NeedleError ? e
    : new NeedleError("DOWNLOAD", "could not read the weights: the stream failed after " + position + " chunks: "
        + (e?.message ?? e), { cause: e });
  if (typeof stream.getReader === "function") {
    const byob = byobReader(stream);
    if (byob !== null) {
      return reusingOneBuffer(byob, announced, bytesOf, failed);
    }
    const reader = stream.getReader();
    return {
      announced,
      async next() {
        let r;
        try {
          r = await reader.read();
        } catch (e) {
          throw failed(e);
        }
        return r.done ? null : bytesOf(r.value);
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
      },
    };
  }
  const iterable = stream[Symbol.asyncIterator] ?? stream[Symbol.iterator];
  if (typeof iterable !== "function") {
    throw new NeedleError("INPUT", "the weight stream must be a Response, a ReadableStream of bytes or an "
        + "(async) iterable of byte chunks, got " + (stream.constructor?.name ?? "an object"));
  }
  const iterator = iterable.call(stream);
  return {
    announced,
    async next() {
      let r;
      try {
        r = await iterator.next();
      } catch (e) {
        throw failed(e);
      }
      return r.done ? null : bytesOf(await r.value);
    },
    async cancel() {
      try {
        await iterator.return?.();
      } catch {
        // the source's own clean-up failed: the load's error is the one to report
      }
    },
  };
}

/**
 * A BYOB ("bring your own buffer") reader of `stream`, or null when it is no byte stream (its
 * getReader({ mode: "byob" }) throws, or gives no reader).
 */
function byobReader(stream) {
  try {
    return stream.getReader({ mode: "byob" }) ?? null;
  } catch {
    return null; // not a byte stream: its chunks are the stream's own arrays (the default reader)
  }
}

/**
 * The chunks of a byte stream read into one buffer of BYOB_CHUNK bytes, the same at every read:
 * a read transfers the buffer to the stream, which fills (part of) it and gives it back as the
 * chunk's view; the next read hands that buffer over again. So each chunk is only valid until the
 * next call of next(): the caller copies it (to the linear memory, a hash that has taken it)
 * before asking for more. No array per chunk is made.
 */
function reusingOneBuffer(reader, announced, bytesOf, failed) {
  let buffer = new ArrayBuffer(BYOB_CHUNK);
  return {
    announced,
    async next() {
      let r;
      try {
        r = await reader.read(new Uint8Array(buffer, 0, BYOB_CHUNK));
      } catch (e) {
        throw failed(e);
      }
      // the buffer comes back (transferred) with the view; a stream that answered with its own
      // array instead leaves the next read a new buffer of ours
      const back = r.value?.buffer;
      if (back instanceof ArrayBuffer && back.byteLength === BYOB_CHUNK) {
        buffer = back;
      } else if (!r.done) {
        buffer = new ArrayBuffer(BYOB_CHUNK);
      }
      return r.done ? null : bytesOf(r.value);
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
    },
  };
}
