// The demo's service worker: keeps the page's own files (HTML, CSS, scripts, the needle-java-wasm
// package with needle.wasm) so that the page opens without a network once it was visited. The
// files are fetched from the network first (a new build shows at once) and from this cache when
// the network fails. The model files are not handled here: downloadModel() keeps them in the
// Cache API itself. build.mjs fills in SHELL (the files of the build) and BUILD (their hash).
const SHELL = /* SHELL */ [];
const BUILD = /* BUILD */ "dev";
const CACHE = "needle-demo-shell-" + BUILD;
const PREFIX = "needle-demo-shell-";

const scope = new URL(self.registration.scope);
const shellUrls = new Set(SHELL.map((f) => new URL(f, scope).href));
shellUrls.add(scope.href); // the folder itself serves index.html

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((f) => new Request(new URL(f, scope), { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

/** The shell file a request is for (the folder and index.html are the same), or null. */
function shellUrl(request) {
  if (request.method !== "GET") {
    return null;
  }
  const url = new URL(request.url);
  url.search = "";
  url.hash = "";
  if (url.href === scope.href) {
    return new URL("index.html", scope).href;
  }
  return shellUrls.has(url.href) ? url.href : null;
}

self.addEventListener("fetch", (event) => {
  const key = shellUrl(event.request);
  if (key === null) {
    return; // the model files and anything else: the network, as without a service worker
  }
  event.respondWith((async () => {
    try {
      const response = await fetch(event.request);
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)).catch(() => {}));
        return response;
      }
      if (response.status < 500) {
        return response;
      }
    } catch {
      // offline, or the server is gone: the copy below
    }
    const cached = await caches.match(key, { cacheName: CACHE });
    if (cached) {
      return cached;
    }
    return Response.error();
  })());
});
