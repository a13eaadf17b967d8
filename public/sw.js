// Parley's service worker.
//
// - Keeps the app shell (the offline page, icons, manifest) and the last
//   copy of the app's scripts, styles and WebAssembly, so the app starts
//   and says it is offline when the network is gone. Pages and API answers
//   are never cached: they hold people's messages and always come from the
//   server. The app's files carry a hash of their content in their names
//   (parley.<hash>.wasm) and never change, so they come from the cache
//   first; keeping a new one drops the older copies of the same file. Other
//   files (and unhashed names, in development) come from the network first,
//   so a new version of the server is picked up at once.
// - Shows web pushes (the server encrypts them for this browser; the push
//   service only relays) and opens the right channel when one is clicked.
//   A push about a message of an end-to-end encrypted conversation carries
//   its ids only: the app's WebAssembly, loaded here the first time, fetches
//   and decrypts it with this browser's keys (taking turns with the tabs).
//
// A module: registered with type "module". The build names the app's files
// after their content and rewrites the two names below to match.

import init, { read_pushed } from "/pkg/parley.js";

const WASM = "/pkg/parley.wasm";

const CACHE = "parley-shell-v1";
const SHELL = [
  "/offline.html",
  "/favicon.svg",
  "/manifest.webmanifest",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isAsset(url) {
  return url.pathname.startsWith("/pkg/") || url.pathname.startsWith("/icons/") || SHELL.includes(url.pathname);
}

// "/pkg/parley.0123456789abcdef.wasm" -> "/pkg/parley.*.wasm"; null for a name without a hash.
function unhashed(url) {
  const m = url.pathname.match(/^(\/pkg\/.+)\.[0-9a-f]{16}(\.[^./]+)$/);
  return m ? m[1] + ".*" + m[2] : null;
}

// Keeps `response` for `request`, and drops the older copies of the same file.
async function keep(request, response) {
  const cache = await caches.open(CACHE);
  const kind = unhashed(new URL(request.url));
  if (kind) {
    for (const old of await cache.keys()) {
      if (old.url !== request.url && unhashed(new URL(old.url)) === kind) await cache.delete(old);
    }
  }
  await cache.put(request, response);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline.html")));
    return;
  }
  if (unhashed(url)) {
    event.respondWith(
      caches.match(request).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            if (response.ok) event.waitUntil(keep(request, response.clone()));
            return response;
          }),
      ),
    );
  } else if (isAsset(url)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) event.waitUntil(keep(request, response.clone()));
          return response;
        })
        .catch(() => caches.match(request).then((hit) => hit || Response.error())),
    );
  }
});

// Pushes are shown one after another, in the order they came: with the
// same tag, the one shown last stays, and two shown at once could finish in
// either order (a quick second push then lost to the first).
let showing = Promise.resolve();

// The app's WebAssembly, instantiated the first time a push needs it.
let app = null;
function loaded() {
  if (!app) {
    app = init({ module_or_path: WASM }).catch((e) => {
      app = null;
      throw e;
    });
  }
  return app;
}

// An encrypted message's first line, decrypted here; where it cannot be
// read here, the server's words stay (they say to open it).
async function decrypted(encrypted, words) {
  try {
    await loaded();
    return await read_pushed(JSON.stringify(encrypted));
  } catch (e) {
    console.warn("a pushed message could not be decrypted here:", e);
    return words;
  }
}

async function show(data) {
  let body = data.body || "";
  if (data.encrypted) body = await decrypted(data.encrypted, body);
  const options = {
    body,
    icon: "/icons/icon-192.png",
    badge: "/icons/icon-192.png",
    data: { url: data.url || "/" },
  };
  // One notification per channel: a newer push replaces the older one.
  if (data.tag) {
    options.tag = data.tag;
    options.renotify = true;
  }
  await self.registration.showNotification(data.title || "Parley", options);
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_) {
    data = { title: "Parley", body: event.data ? event.data.text() : "" };
  }
  const shown = showing.then(() => show(data));
  showing = shown.catch(() => {});
  event.waitUntil(shown);
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const same = windows.find((w) => w.url === target);
      if (same) return same.focus();
      const any = windows.find((w) => "navigate" in w);
      if (any) return any.navigate(target).then((w) => (w ? w.focus() : self.clients.openWindow(target)));
      return self.clients.openWindow(target);
    }),
  );
});
