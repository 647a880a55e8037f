// Helpers shared by the Node test suites (npm-package/test, worker/test): folders named by the
// environment their runner sets, local HTTP servers on 127.0.0.1 and a stand-in for the Hugging
// Face hub. Node built-ins only; each suite imports this file by its relative path (npm-package's
// runner copies it beside the tests).
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";

/** The existing file or folder the environment variable `name` names (`setBy` sets it). */
export function dirFromEnv(name, setBy) {
  const dir = process.env[name];
  if (!dir || !fs.existsSync(dir)) {
    throw new Error(`${name} must name an existing path (${setBy} sets it), got ${dir}`);
  }
  return dir;
}

/** A TCP port of 127.0.0.1 that was free a moment ago (for a server started by another process). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `server` (an http.Server) on a free port of 127.0.0.1; resolves to its base URL. */
export function listen(server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

/** Stops `server`, dropping its open connections. */
export function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The sha256 of `bytes`, in hex. */
export const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

/** The git blob sha1 of `bytes` (what `git hash-object` prints), in hex. */
export const gitSha1 = (bytes) => crypto.createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");

/**
 * A stand-in for the Hugging Face hub, as a request handler for http.createServer. `files` maps a
 * file name to { bytes (served), announced (whose hash is announced; default bytes), redirect,
 * hash (announce one), etag, cdnHeaders } and is read at each request, so a test can change it
 * between requests; each request's URL is pushed to `hits`. /resolve/NAME answers a file with
 * `redirect` as the hub answers a large one, with a 302 to CDN/cdn/NAME (CDN: `cdnBase`, another
 * origin; default this one) carrying X-Linked-Size and, with `hash`, X-Linked-Etag (the sha256) and
 * X-Repo-Commit (`commit`); any other file directly, with its git blob sha1 as the ETag (or `etag`)
 * and, with `hash`, X-Repo-Commit. /cdn/NAME answers the bytes with `cdnHeaders`; unknown names 404.
 */
export function fakeHub({ files, hits, commit, cdnBase = "" }) {
  return (req, res) => {
    hits.push(req.url);
    const url = new URL(req.url, "http://x");
    const name = url.pathname.split("/").pop();
    const f = files[name];
    if (!f) {
      res.writeHead(404).end("no such file");
      return;
    }
    const announced = f.announced ?? f.bytes;
    if (url.pathname.startsWith("/resolve/") && f.redirect) {
      res.writeHead(302, {
        location: cdnBase + "/cdn/" + name, "x-linked-size": String(f.bytes.length), etag: '"v1"',
        ...(f.hash ? { "x-repo-commit": commit, "x-linked-etag": `"${sha256(announced)}"` } : {}),
      }).end();
    } else if (url.pathname.startsWith("/resolve/")) {
      res.writeHead(200, {
        "content-length": f.bytes.length, etag: f.etag ?? `"${gitSha1(announced)}"`,
        ...(f.hash ? { "x-repo-commit": commit } : {}),
      }).end(f.bytes);
    } else {
      res.writeHead(200, { "content-length": f.bytes.length, etag: '"cdn-v1"', ...(f.cdnHeaders ?? {}) }).end(f.bytes);
    }
  };
}

/** A seeded pseudo-random generator (mulberry32): numbers in [0, 1), the same for the same seed. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
