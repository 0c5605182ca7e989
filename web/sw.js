// Foyer service worker: the app shell from a versioned cache (cache-first),
// the API always from the network (never cached), an offline answer otherwise.
const VERSION = 'foyer-shell-v6';
const SHELL = [
  '/', '/index.html', '/manifest.webmanifest', '/css/app.css',
  '/js/app.js', '/js/api.js', '/js/i18n.js', '/js/ui.js', '/js/cards.js',
  '/js/views/home.js', '/js/views/files.js', '/js/views/data.js', '/js/views/settings.js',
  '/js/views/login.js', '/js/views/onboarding.js', '/js/views/pair.js', '/js/views/offline.js',
  '/i18n/fr.json', '/i18n/en.json',
  '/icons/icon.svg', '/icons/icon-192.png', '/icons/icon-512.png', '/icons/maskable-512.png', '/icons/apple-touch-icon.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('foyer-') && k !== VERSION).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function offlineApi() {
  return new Response(JSON.stringify({ error: { code: 'offline', message: 'The box cannot be reached.' } }), {
    status: 503, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  });
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) {
    // Network only: API answers are private and live; they are never stored.
    if (req.method === 'GET') event.respondWith(fetch(req).catch(offlineApi));
    return;
  }
  if (req.method !== 'GET') return;
  const key = req.mode === 'navigate' ? '/index.html' : url.pathname;
  event.respondWith(caches.open(VERSION).then(async (cache) => {
    const hit = await cache.match(key);
    if (hit) return hit;
    const res = await fetch(req);
    if (res.ok && SHELL.includes(url.pathname)) cache.put(key, res.clone());
    return res;
  }));
});
