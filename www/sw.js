// Offline support: every file the page needs is cached on install; requests go to the network
// first (so a new model or build is picked up at once) and fall back to the cache when offline.
const CACHE = 'creditscore-demo-v1';
const ASSETS = [
  './',
  'index.html',
  'app.js',
  'style.css',
  'pkg/dist/index.js',
  'pkg/dist/creditscore.js',
  'pkg/dist/records.js',
  'pkg/dist/creditscore_bg.wasm',
  'pkg/model/default.csb',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(ASSETS))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && ASSETS.some((a) => request.url === new URL(a, self.location.href).href)) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() => caches.match(request, { ignoreSearch: true }).then((hit) => hit ?? Response.error())),
  );
});
