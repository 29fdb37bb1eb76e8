/* AInimal Zookeeper's service worker: keeps the app shell (the page, manifest, icons) so the
   installed app starts offline. API calls (/graphql, downloads, sign-in) and anything from
   another origin pass straight through and are never cached. */

const VERSION = "__BUILD_VERSION__";
const CACHE = `zk-shell-${VERSION}`;
const SHELL = ["./", "manifest.webmanifest", "icons/icon.svg", "icons/icon-192.png", "icons/icon-512.png"];
const NEVER = [/\/graphql\b/, /\/recordings\//, /\/auth\//, /\/healthz\b/, /client-config\.json$/];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("zk-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (NEVER.some((pattern) => pattern.test(url.pathname))) return;
  if (request.headers.get("accept")?.includes("text/event-stream")) return;
  if (request.mode === "navigate") {
    // The page: the network first (so a new version shows at once), the cached shell offline.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put("./", copy));
          }
          return response;
        })
        .catch(() => caches.match("./").then((cached) => cached || Response.error())),
    );
    return;
  }
  const scope = new URL(self.registration.scope);
  const path = url.pathname.startsWith(scope.pathname) ? url.pathname.slice(scope.pathname.length) : null;
  if (path === null || !(path === "" || SHELL.includes(path) || path.startsWith("icons/") || path.startsWith("assets/"))) return;
  // Shell files: the cache first, refreshed in the background.
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(request).then((cached) => {
        const fresh = fetch(request)
          .then((response) => {
            if (response.ok) cache.put(request, response.clone());
            return response;
          })
          .catch(() => cached || Response.error());
        return cached || fresh;
      }),
    ),
  );
});
