// Translations: French and English, chosen from navigator.languages unless the
// user picked one (kept in localStorage). Strings live in /i18n/<lang>.json.

export const LANGS = ['fr', 'en'];
const KEY = 'foyer.lang';
let lang = 'en';
let strings = {};
const listeners = new Set();

function detect() {
  const saved = localStorage.getItem(KEY);
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const base = String(l).toLowerCase().slice(0, 2);
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

async function load(l) {
  const res = await fetch(`/i18n/${l}.json`);
  strings = await res.json();
  lang = l;
  document.documentElement.lang = l;
}

export async function initI18n() { await load(detect()); }

export async function setLang(l) {
  if (!LANGS.includes(l) || l === lang) return;
  localStorage.setItem(KEY, l);
  await load(l);
  listeners.forEach((fn) => fn(l));
}

export function getLang() { return lang; }
export function onLangChange(fn) { listeners.add(fn); }

/** The string for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars) {
  let s = strings[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

export function has(key) { return key in strings; }

// Formatting in the chosen language.
const cache = new Map();
function fmt(kind, opts) {
  const k = lang + kind + JSON.stringify(opts);
  if (!cache.has(k)) cache.set(k, kind === 'n' ? new Intl.NumberFormat(lang, opts) : new Intl.DateTimeFormat(lang, opts));
  return cache.get(k);
}

export function money(amount, currency = 'EUR', signed = false) {
  if (typeof amount !== 'number') return '';
  try {
    return fmt('n', { style: 'currency', currency: currency || 'EUR', signDisplay: signed ? 'exceptZero' : 'auto' }).format(amount);
  } catch {
    return fmt('n', { maximumFractionDigits: 2 }).format(amount) + ' ' + currency;
  }
}

export function number(n, digits = 2) {
  return typeof n === 'number' ? fmt('n', { maximumFractionDigits: digits }).format(n) : '';
}

/** A `YYYY-MM-DD` string, an ISO date-time or unix seconds, as a readable date. */
export function date(v, withTime = false) {
  if (v === null || v === undefined || v === '') return '';
  let d;
  if (typeof v === 'number') d = new Date(v * 1000);
  else if (/^\d{4}-\d{2}-\d{2}$/.test(v)) d = new Date(v + 'T12:00:00');
  else d = new Date(v);
  if (isNaN(d)) return String(v);
  const o = { day: 'numeric', month: 'short', year: 'numeric' };
  if (withTime) { o.hour = '2-digit'; o.minute = '2-digit'; }
  return fmt('d', o).format(d);
}

/** "3 minutes ago" style, for unix seconds. */
export function ago(secs) {
  if (!secs) return t('common.never');
  const diff = secs - Date.now() / 1000;
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const a = Math.abs(diff);
  if (a < 60) return t('common.just_now');
  if (a < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  if (a < 86400 * 30) return rtf.format(Math.round(diff / 86400), 'day');
  return date(secs);
}

export function bytes(n) {
  if (typeof n !== 'number') return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  const u = lang === 'fr' ? ['o', 'ko', 'Mo', 'Go', 'To'][i] : units[i];
  return fmt('n', { maximumFractionDigits: i ? 1 : 0 }).format(n) + '\u00a0' + u;
}
