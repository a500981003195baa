// Confab's service worker: the app opens from its cache, with or without a
// network. scripts/service-worker.mjs writes dist/sw.js from this file,
// with __BUILD__ replaced by the build's version (a hash of dist/'s files),
// its app shell (the files to keep, relative to this script) and the rule
// for the files kept on first use instead.
//
// - install: the shell is cached (through the HTTP cache: files the page
//   already has cost no bytes again), and so are this build's copies of the
//   files an older version cached on first use (the parts this browser has
//   used: they keep opening offline after an update; a first install has
//   none, so a first visit downloads no part it does not use). No skipWaiting here: a new version
//   waits until a page's Reload button asks for it ("skipWaiting" message).
// - activate: caches of other versions are deleted; open pages are claimed.
// - fetch: pages (navigations) get the cached index.html; the shell's
//   files come from the cache; the render worker's files, the main wasm's
//   split chunks and the PNG icons are cached on first use. The APIs
//   (api/, adk/, otlp/), the proxy's healthz, other origins and anything
//   but GET are left to the network: this worker never answers them.
const { version: VERSION, shell: SHELL, lazy: LAZY, onFirstUse } = __BUILD__;
const SHELL_CACHE = `confab-shell-${VERSION}`;
const RUNTIME_CACHE = `confab-runtime-${VERSION}`;
const ROOT = new URL("./", self.location);
// index.html is kept as the root URL, the one the page was loaded from:
// installing then finds it in the HTTP cache (a 304, not the file again).
const INDEX = ROOT.href;
const SHELL_URLS = new Set(SHELL.map((file) => new URL(file, ROOT).href));
const NEVER = /^(api|adk|otlp|healthz)(\/|$)/;
// scripts/service-worker.mjs leaves these out of SHELL by the same rule.
const ON_FIRST_USE = new RegExp(onFirstUse);

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      // The first install is registered by a page that has just loaded the
      // shell: its copies in the HTTP cache are this build's, so they are
      // taken as they are, without a revalidation round trip per unhashed
      // file. An update revalidates them (a copy may be older).
      const first = !(await caches.keys()).some((name) => name.startsWith("confab-shell-"));
      const requests = [...SHELL_URLS].map((url) => new Request(url, first ? { cache: "force-cache" } : {}));
      await (await caches.open(SHELL_CACHE)).addAll(requests);
      await cacheUsedParts();
    })(),
  );
});

// A file's name without a build's hash: `split_markdown-0123456789abcdef.wasm`
// and the same part of another build are both `split_markdown.wasm`. Shared
// chunks (`chunk_N`) are numbered per build, so they count as one.
function part(path) {
  const name = path.slice(path.lastIndexOf("/") + 1).replace(/-[0-9a-f]{16}(?=[._])/, "");
  return name.startsWith("chunk_") ? "chunk_" : name;
}

// Caches this build's copy of every file that an older version's runtime
// cache holds. Best effort: a file that cannot be fetched now is fetched
// on use, as on a first visit.
async function cacheUsedParts() {
  const used = new Set();
  for (const name of await caches.keys()) {
    if (!name.startsWith("confab-runtime-") || name === RUNTIME_CACHE) continue;
    for (const request of await (await caches.open(name)).keys()) used.add(part(new URL(request.url).pathname));
  }
  const wanted = LAZY.filter((file) => used.has(part(file)));
  if (wanted.length === 0) return;
  const cache = await caches.open(RUNTIME_CACHE);
  await Promise.all(wanted.map((file) => cache.add(new URL(file, ROOT).href).catch(() => {})));
}

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("confab-") && name !== SHELL_CACHE && name !== RUNTIME_CACHE) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skipWaiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== ROOT.origin || !url.pathname.startsWith(ROOT.pathname)) return;
  const path = url.pathname.slice(ROOT.pathname.length);
  if (NEVER.test(path)) return;
  const key = url.origin + url.pathname;
  if (request.mode === "navigate") {
    event.respondWith(cached(SHELL_CACHE, INDEX, request, false));
  } else if (SHELL_URLS.has(key)) {
    event.respondWith(cached(SHELL_CACHE, key, request, false));
  } else if (ON_FIRST_USE.test(path)) {
    event.respondWith(cached(RUNTIME_CACHE, key, request, true));
  }
});

// The cached copy, else the network's answer (kept when `keep`). Vary is
// ignored: the cache holds decoded bodies, the same for any encoding.
async function cached(name, key, request, keep) {
  const cache = await caches.open(name);
  const hit = await cache.match(key, { ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  // A copy that cannot be kept (a full quota) still answers the page.
  if (keep && response.ok) await cache.put(key, response.clone()).catch(() => {});
  return response;
}
