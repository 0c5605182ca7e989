// Small DOM helpers. Everything is built with createElement/textContent:
// data from the box never goes through innerHTML.
import { t, has, LANGS, getLang, setLang } from './i18n.js';
import { api } from './api.js';

/**
 * h('button.primary', {onclick, 'data-testid': 'x'}, 'Text', child...)
 * The tag may carry classes after dots. Attributes: `on*` are listeners,
 * `class`, booleans set/unset the attribute, anything else is setAttribute.
 */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Icons: 24×24 stroke paths, drawn for Foyer.
const ICONS = {
  home: 'M3 10.5 12 3l9 7.5V20a1 1 0 0 1-1 1h-5v-6h-6v6H4a1 1 0 0 1-1-1z',
  folder: 'M3 6.5A1.5 1.5 0 0 1 4.5 5H9l2 2.5h8.5A1.5 1.5 0 0 1 21 9v9.5a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5z',
  file: 'M6 3h8l5 5v12a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1zM14 3v5h5',
  image: 'M4 4h16v16H4zM4 16l5-5 4 4 2-2 5 5M15.5 9.5a1.5 1.5 0 1 0 0-.01',
  data: 'M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zm0 0v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3',
  settings: 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 13.5l1.6 1.2-2 3.4-1.9-.7a7 7 0 0 1-2 1.2L14.8 21h-4l-.3-2.4a7 7 0 0 1-2-1.2l-1.9.7-2-3.4 1.6-1.2a7 7 0 0 1 0-2.9L4.6 9.3l2-3.4 1.9.7a7 7 0 0 1 2-1.2L10.8 3h4l.3 2.4a7 7 0 0 1 2 1.2l1.9-.7 2 3.4-1.6 1.2a7 7 0 0 1 0 2.9z',
  upload: 'M12 16V4m0 0L7 9m5-5 5 5M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3',
  download: 'M12 4v12m0 0-5-5m5 5 5-5M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3',
  camera: 'M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1zM12 17a4 4 0 1 0 0-8 4 4 0 0 0 0 8z',
  plus: 'M12 5v14M5 12h14',
  more: 'M5 12h.01M12 12h.01M19 12h.01',
  trash: 'M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3',
  back: 'M15 5l-7 7 7 7',
  chevron: 'M9 5l7 7-7 7',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  warning: 'M12 3 2 20h20zM12 10v4M12 17h.01',
  shield: 'M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z',
  bill: 'M6 3h12v18l-3-2-3 2-3-2-3 2zM9 8h6M9 12h6',
  bank: 'M3 10h18L12 4zM5 10v8M9.5 10v8M14.5 10v8M19 10v8M3 20h18',
  bolt: 'M13 3 5 13h6l-1 8 8-10h-6z',
  note: 'M5 4h14v16H5zM8 8h8M8 12h8M8 16h5',
  contact: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 3.6-6 8-6s8 2 8 6',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  phone: 'M8 2h8a1 1 0 0 1 1 1v18a1 1 0 0 1-1 1H8a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zM11 18h2',
  key: 'M14 10a4 4 0 1 0-3.5 4L12 15.5V18h2.5v2.5H17l1-1-4.6-4.6A4 4 0 0 0 14 10z',
  restore: 'M4 12a8 8 0 1 0 2.3-5.6L4 8.7M4 4v4.7h4.7',
  search: 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4',
  close: 'M6 6l12 12M18 6 6 18',
  copy: 'M9 9h11v11H9zM5 15H4V4h11v1',
  cloudoff: 'M3 3l18 18M8 8a5 5 0 0 0-1 9.9h10.5M12.5 7.1A5 5 0 0 1 17.9 11a3.5 3.5 0 0 1 2.5 5',
};

export function icon(name, cls = '') {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', ('icon ' + cls).trim());
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', ICONS[name] || ICONS.file);
  svg.append(p);
  return svg;
}

/** A status message for screen readers and eyes (aria-live region). */
let toastTimer;
export function announce(message, kind = 'info') {
  const box = document.getElementById('status');
  clear(box, h('div.toast.' + kind, message));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.replaceChildren(), kind === 'error' ? 8000 : 4000);
}

/** A translated message for an ApiError (by code), else the server's own. */
export function errorText(err) {
  if (!err) return '';
  if (err.code === 'rate_limited') {
    return err.retryAfter ? t(err.retryAfter === 1 ? 'err.rate_limited_in_1' : 'err.rate_limited_in', { s: err.retryAfter }) : t('err.rate_limited');
  }
  if (err.code && has('err.' + err.code)) return t('err.' + err.code);
  return err.message || t('err.generic');
}

/** Inline error area for a form (role=alert so it is read at once). */
export function errorBox() {
  const el = h('p.form-error', { role: 'alert', 'data-testid': 'form-error' });
  el.hidden = true;
  el.show = (err) => {
    el.textContent = typeof err === 'string' ? err : errorText(err);
    el.hidden = !el.textContent;
  };
  el.hide = () => { el.hidden = true; el.textContent = ''; };
  /** Shows the error; on 429 with Retry-After, keeps `btn` disabled and counts down. */
  el.showFor = (err, btn) => {
    el.show(err);
    if (!err || err.code !== 'rate_limited' || !err.retryAfter || !btn) return;
    let left = err.retryAfter;
    const tick = () => {
      if (left <= 0 || !btn.isConnected) { clearInterval(timer); btn.disabled = false; el.hide(); return; }
      btn.disabled = true;
      el.textContent = t(left === 1 ? 'err.rate_limited_in_1' : 'err.rate_limited_in', { s: left });
      left -= 1;
    };
    const timer = setInterval(tick, 1000);
    setTimeout(tick, 0);
  };
  return el;
}

let uid = 0;
export function nextId(p = 'f') { return `${p}${++uid}`; }

/** A labelled input. Returns the wrapper; `.input` is the control. */
export function field(label, attrs = {}, hint) {
  const id = attrs.id || nextId();
  const input = h(attrs.tag || 'input', { ...attrs, tag: undefined, id, 'aria-describedby': hint ? id + '-hint' : undefined });
  const wrap = h('div.field', h('label', { for: id }, label), input, hint ? h('p.hint', { id: id + '-hint' }, hint) : null);
  wrap.input = input;
  return wrap;
}

export function button(label, attrs = {}, iconName) {
  return h('button', { type: 'button', ...attrs }, iconName ? icon(iconName) : null, label ? h('span', label) : null);
}

/** Disables a button while an async action runs. */
export async function busy(btn, fn) {
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try { return await fn(); } finally { btn.disabled = false; btn.removeAttribute('aria-busy'); }
}

/** AB:CD:EF…, 8 bytes per line. No aria-label: screen readers read the
 *  lines themselves (aria-label is not allowed on <code>, axe-core). */
export function fingerprintBlock(hex) {
  const pairs = String(hex || '').replace(/[^0-9a-f]/gi, '').toUpperCase().match(/.{1,2}/g) || [];
  const lines = [];
  for (let i = 0; i < pairs.length; i += 8) lines.push(h('span', pairs.slice(i, i + 8).join(':')));
  return h('code.fingerprint', { 'data-testid': 'ca-fingerprint' }, lines);
}

export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    announce(t('common.copied'), 'success');
  } catch {
    announce(t('common.copy_failed'), 'error');
  }
}

/** A modal <dialog>. `build(close)` returns its content. Resolves on close. */
export function modal(title, build, { wide = false } = {}) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg');
    const dlg = h('dialog.sheet' + (wide ? '.wide' : ''), { 'aria-labelledby': titleId });
    let result;
    const close = (value) => { result = value; dlg.close(); };
    const head = h('div.sheet-head', h('h2', { id: titleId }, title),
      button('', { class: 'icon-btn', 'aria-label': t('common.close'), 'data-testid': 'dialog-close', onclick: () => close(undefined) }, 'close'));
    dlg.append(head, h('div.sheet-body', build(close)));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    dlg.addEventListener('click', (e) => { if (e.target === dlg) close(undefined); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export function confirmDialog(title, message, okLabel, danger = false) {
  return modal(title, (close) => [
    h('p', message),
    h('div.actions',
      button(t('common.cancel'), { class: 'secondary', onclick: () => close(false) }),
      button(okLabel, { class: danger ? 'danger' : 'primary', 'data-testid': 'confirm-ok', onclick: () => close(true) })),
  ]);
}

/** Asks for one line of text; resolves with it, or undefined. */
export function promptDialog(title, label, value = '', okLabel = t('common.ok')) {
  return modal(title, (close) => {
    const f = field(label, { value, autocomplete: 'off', 'data-testid': 'prompt-input', required: true });
    const form = h('form.stack', {
      onsubmit: (e) => { e.preventDefault(); const v = f.input.value.trim(); if (v) close(v); },
    }, f, h('div.actions',
      button(t('common.cancel'), { class: 'secondary', onclick: () => close(undefined) }),
      h('button.primary', { type: 'submit', 'data-testid': 'prompt-ok' }, okLabel)));
    requestAnimationFrame(() => { f.input.focus(); f.input.select(); });
    return form;
  });
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/**
 * A new-passphrase field with its confirmation and a strength meter fed by
 * POST /api/passphrase/strength. `.value()` returns the passphrase when both
 * fields agree and the box finds it acceptable, else null (and says why).
 */
export function passphraseFields({ label = t('pass.new'), testid = 'passphrase', autofocus = false } = {}) {
  const pass = field(label, { type: 'password', autocomplete: 'new-password', 'data-testid': testid, required: true, autofocus }, t('pass.hint'));
  const conf = field(t('pass.confirm'), { type: 'password', autocomplete: 'new-password', 'data-testid': testid + '-confirm', required: true });
  const bar = h('div.meter-bar', h('span'), h('span'), h('span'), h('span'));
  const verdict = h('span.meter-label', { 'data-testid': 'strength-label' });
  const advice = h('ul.meter-advice');
  const meter = h('div.meter', { 'aria-live': 'polite', 'data-score': '-1' }, bar, verdict, advice);
  const show = h('label.check-inline', h('input', { type: 'checkbox', onchange: (e) => {
    const type = e.target.checked ? 'text' : 'password';
    pass.input.type = type; conf.input.type = type;
  } }), t('pass.show'));
  let last = { score: -1, acceptable: false };
  let seq = 0;

  const check = debounce(async () => {
    const v = pass.input.value;
    const mine = ++seq;
    if (!v) { render({ score: -1, acceptable: false, warning: null, suggestions: [] }); return; }
    let r;
    try {
      r = await api('/api/passphrase/strength', { method: 'POST', body: { passphrase: v }, quiet401: true });
    } catch {
      // The box could not rate it (older box, offline): a rough local estimate;
      // the box still decides when the form is sent.
      const len = v.length;
      const score = len < 10 ? 0 : len < 14 ? 2 : len < 20 ? 3 : 4;
      r = { score, acceptable: len >= 10, warning: null, suggestions: len < 10 ? [t('pass.longer')] : [] };
    }
    if (mine === seq) render(r);
  }, 250);

  function render(r) {
    last = r;
    meter.dataset.score = String(r.score);
    meter.dataset.ok = String(!!r.acceptable);
    verdict.textContent = r.score < 0 ? '' : t('pass.score' + r.score) + (r.acceptable ? '' : ' — ' + t('pass.not_enough'));
    const tr = (s) => (has('zx.' + s) ? t('zx.' + s) : s);
    clear(advice, [r.warning, ...(r.suggestions || [])].filter(Boolean).map((s) => h('li', tr(s))));
  }

  pass.input.addEventListener('input', check);
  const wrap = h('div.pass-group', pass, meter, conf, show);
  wrap.value = (errors) => {
    const v = pass.input.value;
    if (!v) { errors.show(t('pass.empty')); pass.input.focus(); return null; }
    if (last.score >= 0 && !last.acceptable) { errors.show(t('err.weak_passphrase')); pass.input.focus(); return null; }
    if (v !== conf.input.value) { errors.show(t('pass.mismatch')); conf.input.focus(); return null; }
    return v;
  };
  wrap.focus = () => pass.input.focus();
  wrap.reset = () => { pass.input.value = ''; conf.input.value = ''; render({ score: -1, acceptable: false }); };
  return wrap;
}

/** Triggers a download of a Blob under `name`. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * The recovery key, shown once: big and legible, with Download and Print, and
 * the "I have saved it" checkbox that enables `onContinue`.
 */
export function recoveryKeyPanel(key, boxName, onContinue) {
  const saved = h('input', { type: 'checkbox', id: nextId(), 'data-testid': 'recovery-saved' });
  const text = `${t('rk.file_title')}\n${t('rk.file_box', { name: boxName })}\n\n${key}\n\n${t('rk.file_note')}\n`;
  // The print sheet (shown only by the print stylesheet) lives while the key is on screen.
  const sheet = h('div.print-sheet', { id: 'print-sheet' }, h('h1', t('rk.file_title')), h('p', t('rk.file_box', { name: boxName })),
    h('p.print-key', key), h('p', t('rk.file_note')));
  document.getElementById('print-sheet')?.remove();
  document.body.append(sheet);
  const drop = () => { sheet.remove(); window.removeEventListener('hashchange', drop); };
  window.addEventListener('hashchange', drop);
  const print = () => window.print();
  const cont = button(t('common.continue'), { class: 'primary block', 'data-testid': 'continue', disabled: true, onclick: () => { drop(); onContinue(); } });
  saved.addEventListener('change', () => { cont.disabled = !saved.checked; });
  return h('div.stack',
    h('p', t('rk.intro')),
    h('div.recovery-key', { 'data-testid': 'recovery-key', tabindex: '0', role: 'group', 'aria-label': t('rk.label') }, key),
    h('div.key-actions',
      button(t('rk.download'), { class: 'secondary', 'data-testid': 'recovery-download', onclick: () => saveBlob(new Blob([text], { type: 'text/plain' }), `foyer-recovery-key-${boxName}.txt`) }, 'download'),
      button(t('rk.print'), { class: 'secondary', 'data-testid': 'recovery-print', onclick: print }, 'file'),
      button(t('common.copy'), { class: 'secondary', onclick: () => copy(key) }, 'copy')),
    h('div.notice.warn', icon('warning'), h('p', t('rk.warning'))),
    h('div.check', saved, h('label', { for: saved.id }, t('rk.saved'))),
    cont);
}

export function emptyState(iconName, title, text, ...actions) {
  return h('div.empty', icon(iconName, 'big'), h('p.empty-title', title), text ? h('p.muted', text) : null, actions.length ? h('div.actions.center', actions) : null);
}

export function spinner() { return h('div.loading', { role: 'status' }, h('span.spin'), h('span.sr-only', t('common.loading'))); }

/** Français / English segmented switch. */
export function langSwitch() {
  const names = { fr: 'Français', en: 'English' };
  return h('div.segmented', { role: 'group', 'aria-label': t('settings.language') },
    LANGS.map((l) => h('button', {
      type: 'button', lang: l, 'data-testid': 'lang-' + l, 'aria-pressed': String(getLang() === l),
      onclick: () => setLang(l),
    }, names[l])));
}

/** A "Step n of m" indicator. */
export function steps(n, total) {
  return h('div.steps', h('span.sr-only', t('onb.step', { n, total })),
    h('ol', { 'aria-hidden': 'true' }, Array.from({ length: total }, (_, i) => h('li', { class: i < n ? 'done' : '' }))));
}
