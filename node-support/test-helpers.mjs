// Helpers shared by the Node test suites (npm-package/test, worker/test): folders named by the
// environment their runner sets, and local HTTP servers on 127.0.0.1. Node built-ins only; each
// suite imports this file by its relative path (npm-package's runner copies it beside the tests).
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
