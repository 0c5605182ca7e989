// Foyer web app: bootstrap, hash router, session state and the live change feed.
import { api, setCsrf, onAuthLost } from './api.js';
import { initI18n, t, onLangChange } from './i18n.js';
import { h, clear, icon, announce } from './ui.js';

const main = document.getElementById('main');
const tabbar = document.getElementById('tabbar');
const topbar = document.getElementById('topbar');
const banner = document.getElementById('banner');

/** What every view gets: the box, navigation and a title setter. */
export const app = {
  health: null,
  box: null,
  loggedIn: false,
  navigate(hash) { if (location.hash === hash) route(); else location.hash = hash; },
  setTitle,
  boxName() { return (app.box && app.box.name) || (app.health && app.health.name) || 'Foyer'; },
  async loggedInWith(csrf) { setCsrf(csrf); await startApp(); },
  loggedOut(message) { stopApp(); if (message) announce(message, 'info'); app.navigate('#/login'); },
  refreshBox,
  restart: () => start({}),
};

const TABS = [
  { id: 'home', hash: '#/', icon: 'home', match: (r) => r === '' },
  { id: 'files', hash: '#/files/', icon: 'folder', match: (r) => r === 'files' || r === 'trash' },
  { id: 'data', hash: '#/data', icon: 'data', match: (r) => r === 'data' || r === 'doc' },
  { id: 'settings', hash: '#/settings', icon: 'settings', match: (r) => r === 'settings' },
];

const PRIVATE = {
  '': () => import('./views/home.js'),
  files: () => import('./views/files.js'),
  trash: () => import('./views/files.js'),
  data: () => import('./views/data.js'),
  doc: () => import('./views/data.js'),
  settings: () => import('./views/settings.js'),
};
const PUBLIC = {
  login: () => import('./views/login.js'),
  recover: () => import('./views/login.js'),
};

let current = null; // the mounted view: { onChanges?, destroy? }
let renderSeq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path] = raw.split('?');
  const parts = path.split('/');
  return { name: parts[0], rest: parts.slice(1).map((p) => { try { return decodeURIComponent(p); } catch { return p; } }), raw: path };
}

function setTitle(title, backHash) {
  document.title = title ? `${title} · Foyer` : 'Foyer';
  clear(topbar,
    backHash
      ? h('a.icon-btn.back', { href: backHash, 'aria-label': t('common.back') }, icon('back'))
      : h('span.brand-mark', { 'aria-hidden': 'true' }, h('img', { src: '/icons/icon.svg', alt: '', width: 28, height: 28 })),
    h('h1.topbar-title', { 'data-testid': 'page-title' }, title || 'Foyer'),
    app.loggedIn && !backHash ? h('span.topbar-box', app.boxName()) : null);
}

function renderTabs(active) {
  clear(tabbar, h('ul', TABS.map((tab) => h('li', h('a.tab', {
    href: tab.hash,
    'data-testid': 'tab-' + tab.id,
    'aria-current': tab.match(active) ? 'page' : null,
  }, icon(tab.icon), h('span', t('tab.' + tab.id)))))));
}

async function mount(loader, params, publicView) {
  const seq = ++renderSeq;
  if (current && current.destroy) current.destroy();
  current = null;
  document.body.classList.toggle('public', !!publicView);
  const mod = await loader();
  if (seq !== renderSeq) return;
  clear(main);
  main.scrollTo?.(0, 0);
  window.scrollTo(0, 0);
  const v = await mod.default(main, params, app);
  if (seq !== renderSeq) { v && v.destroy && v.destroy(); return; }
  current = v || {};
}

/** Renders the screen for the current hash. */
export async function route() {
  const r = parseHash();
  if (!app.loggedIn) {
    if (PUBLIC[r.name]) return mount(PUBLIC[r.name], r, true);
    if (PRIVATE[r.name]) sessionStorage.setItem('foyer.after', location.hash);
    return mount(PUBLIC.login, { name: 'login', rest: [] }, true);
  }
  if (PUBLIC[r.name]) { location.replace('#/'); return; }
  const loader = PRIVATE[r.name];
  if (!loader) { location.replace('#/'); return; }
  renderTabs(r.name);
  return mount(loader, r, false);
}

function renderPublic(loader, params) {
  app.loggedIn = false;
  return mount(loader, params, true);
}

// ---- live updates: long-poll on the change feed --------------------------

const feed = { since: null, ctrl: null, running: false, delay: 1000 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function feedLoop() {
  if (feed.running || !app.loggedIn || document.hidden) return;
  feed.running = true;
  while (app.loggedIn && !document.hidden) {
    feed.ctrl = new AbortController();
    const signal = feed.ctrl.signal;
    try {
      if (feed.since === null) {
        // A `since` beyond the head answers nothing but the head itself.
        const head = await api('/api/changes?since=9007199254740991&limit=1', { signal });
        feed.since = head.last_seq;
      }
      const page = await api(`/api/changes?since=${feed.since}&feed=longpoll&timeout=30000`, { signal });
      showBanner(false);
      feed.delay = 1000;
      if (page.last_seq < feed.since) feed.since = null; // the box was reset
      else feed.since = page.last_seq;
      if (page.results.length && current && current.onChanges) {
        try { current.onChanges(page.results); } catch (e) { console.error(e); }
      }
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401) break;
      if (e.code === 'offline') showBanner(true);
      await sleep(feed.delay);
      feed.delay = Math.min(feed.delay * 2, 60000);
    }
  }
  feed.running = false;
}

function stopFeed() { if (feed.ctrl) feed.ctrl.abort(); }

document.addEventListener('visibilitychange', () => {
  if (document.hidden) stopFeed();
  else feedLoop();
});

function showBanner(on) {
  banner.hidden = !on;
  if (on) clear(banner, icon('cloudoff'), h('span', t('offline.banner')));
}

// ---- session lifecycle ----------------------------------------------------

async function refreshBox() {
  try { app.box = await api('/api/box'); } catch { app.box = null; }
  return app.box;
}

async function startApp() {
  app.loggedIn = true;
  feed.since = null;
  await refreshBox();
  feedLoop();
  const after = sessionStorage.getItem('foyer.after');
  sessionStorage.removeItem('foyer.after');
  const r = parseHash();
  if (after) location.replace(after);
  else if (PUBLIC[r.name] || !PRIVATE[r.name]) location.replace('#/');
  route();
}

function stopApp() {
  app.loggedIn = false;
  setCsrf(null);
  stopFeed();
  showBanner(false);
}

onAuthLost(() => {
  if (!app.loggedIn) return;
  sessionStorage.setItem('foyer.after', location.hash);
  stopApp();
  announce(t('login.expired'), 'info');
  route();
});

function parseFragment() {
  const raw = location.hash.replace(/^#/, '');
  if (!/^(claim|pair)=/.test(raw)) return {};
  const p = new URLSearchParams(raw);
  return { claim: p.get('claim'), pair: p.get('pair'), fp: p.get('fp') };
}

let offlineTimer;
async function start(frag) {
  clearTimeout(offlineTimer);
  let health;
  try {
    health = await api('/api/health');
  } catch {
    const mod = await import('./views/offline.js');
    document.body.classList.add('public');
    app.loggedIn = false;
    clear(main);
    mod.default(main, () => start(frag), app);
    offlineTimer = setTimeout(() => start(frag), 8000);
    return;
  }
  app.health = health;
  if (!health.claimed) {
    if (frag.claim) history.replaceState(null, '', location.pathname + '#/setup');
    return renderPublic(() => import('./views/onboarding.js'), { claim: frag.claim || '' });
  }
  if (frag.pair) return renderPublic(() => import('./views/pair.js'), frag);
  if (frag.claim) history.replaceState(null, '', location.pathname + '#/');
  try {
    const s = await api('/api/session', { quiet401: true });
    if (s.csrf) return app.loggedInWith(s.csrf);
  } catch (e) {
    if (e.code === 'offline') return start(frag);
  }
  app.loggedIn = false;
  route();
}

window.addEventListener('hashchange', () => {
  const frag = parseFragment();
  if (frag.claim || frag.pair) start(frag);
  else route();
});

window.addEventListener('online', () => { if (app.loggedIn) feedLoop(); });

onLangChange(() => {
  if (app.loggedIn) route();
  else if (current && current.relabel) current.relabel();
  else start(parseFragment());
});

function registerServiceWorker() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js').catch(() => { /* untrusted certificate: no offline shell */ });
  }
}

(async () => {
  await initI18n();
  registerServiceWorker();
  await start(parseFragment());
})();
