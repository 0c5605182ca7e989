// Settings: the box, pairing a phone, devices and sessions, API tokens,
// passphrase, language, factory reset, log out.
import { api } from '../api.js';
import { t, ago, date } from '../i18n.js';
import { h, clear, icon, button, busy, field, errorBox, errorText, announce, confirmDialog, promptDialog, modal, copy, fingerprintBlock, passphraseFields, langSwitch, spinner, nextId } from '../ui.js';

function section(id, title, ...body) {
  return h('section.card', { 'aria-labelledby': id, 'data-testid': 'settings-' + id },
    h('h2.card-title', { id }, title), body);
}

export default async function settings(main, params, app) {
  app.setTitle(t('settings.title'));
  const timers = [];
  const urls = [];
  const box = h('div', spinner());
  const pairing = h('div');
  const devices = h('div', spinner());
  const tokens = h('div', spinner());
  const reset = h('div');

  clear(main, h('div.page',
    section('box', t('settings.box'), box),
    section('pair', t('settings.pair'), pairing),
    section('devices', t('settings.devices'), h('p.muted', t('settings.devices_intro')), devices),
    section('passphrase', t('settings.passphrase'), passphraseForm()),
    section('tokens', t('settings.tokens'), h('p.muted', t('settings.tokens_intro')), tokens),
    section('language', t('settings.language'), langSwitch()),
    section('reset', t('settings.reset'), reset),
    h('div.actions.center', button(t('settings.logout'), { class: 'secondary', 'data-testid': 'logout', onclick: logout }, 'back'))));

  // ---- box --------------------------------------------------------------
  async function loadBox() {
    const b = (await app.refreshBox()) || {};
    const hl = app.health || {};
    const http = b.http_url ? b.http_url.replace(/\/$/, '') : '';
    const rows = [
      [t('settings.box_name'), h('span', { 'data-testid': 'box-name-value' }, b.name || hl.name || '—')],
      [t('settings.hostname'), b.hostname || hl.name || '—'],
      [t('settings.version'), b.version || hl.version || '—'],
      b.https_url ? [t('settings.address'), h('span.mono.break', b.https_url)] : null,
    ].filter(Boolean);
    clear(box,
      h('dl.fields', rows.map(([k, v]) => [h('dt', k), h('dd', v)])),
      h('div.actions.left', button(t('settings.rename'), { class: 'secondary', 'data-testid': 'box-rename', onclick: rename })),
      h('h3', t('settings.ca')),
      h('p.muted', t('settings.ca_intro')),
      fingerprintBlock(b.ca_fingerprint || hl.ca_fingerprint),
      http ? h('ul.links',
        h('li', h('a', { href: http + '/ca.pem', download: 'foyer-ca.pem' }, t('settings.ca_pem'))),
        h('li', h('a', { href: http + '/ca.crt', download: 'foyer-ca.crt' }, t('settings.ca_crt'))),
        h('li', h('a', { href: http + '/ca.mobileconfig', download: 'foyer.mobileconfig' }, t('settings.ca_ios')))) : null);
  }

  async function rename() {
    const name = await promptDialog(t('settings.rename'), t('settings.box_name'), app.boxName(), t('common.save'));
    if (!name) return;
    try {
      await api('/api/box', { method: 'PUT', body: { name } });
      announce(t('settings.renamed'), 'success');
      await loadBox();
      app.setTitle(t('settings.title'));
    } catch (e) { announce(errorText(e), 'error'); }
  }

  // ---- pairing ------------------------------------------------------------
  function pairIdle() {
    clear(pairing, h('p.muted', t('settings.pair_intro')),
      button(t('settings.pair_start'), { class: 'primary', 'data-testid': 'pair-start', onclick: (e) => busy(e.currentTarget, startPairing) }, 'phone'));
  }

  async function startPairing() {
    let p;
    try { p = await api('/api/pairing', { method: 'POST', body: {} }); } catch (e) { announce(errorText(e), 'error'); return; }
    const svgUrl = (svg) => { const u = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' })); urls.push(u); return u; };
    const url = svgUrl(p.qr_svg);
    const left = h('p.countdown', { 'data-testid': 'pair-countdown', 'aria-live': 'off' });
    const tick = () => {
      const s = Math.max(0, Math.round(p.expires - Date.now() / 1000));
      left.textContent = s ? t('settings.pair_expires', { time: `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` }) : t('settings.pair_expired');
      if (!s) { clearInterval(timer); qr.classList.add('expired'); }
    };
    const qr = h('img.qr', { src: url, alt: t('settings.pair_qr_alt'), 'data-testid': 'pair-qr', width: 220, height: 220 });
    const timer = setInterval(tick, 1000);
    timers.push(timer);
    // Phones that cannot resolve .local names get the same code by address.
    let shown = p.url;
    const link = h('p.mono.break.small', { 'data-testid': 'pair-url' }, shown);
    let addressSrc = null;
    const byAddress = p.address_url ? button(t('settings.pair_by_address'), {
      class: 'link', 'data-testid': 'pair-by-address',
      onclick: (e) => {
        const toAddress = shown === p.url;
        shown = toAddress ? p.address_url : p.url;
        if (toAddress && !addressSrc) addressSrc = svgUrl(p.address_qr_svg);
        qr.src = toAddress ? addressSrc : url;
        link.textContent = shown;
        e.currentTarget.textContent = t(toAddress ? 'settings.pair_by_name' : 'settings.pair_by_address');
      },
    }) : null;
    clear(pairing,
      h('ol.steps-text', h('li', t('settings.pair_step1')), h('li', t('settings.pair_step2')), h('li', t('settings.pair_step3'))),
      h('div.qr-wrap', qr), left,
      link,
      byAddress,
      h('div.actions.left',
        button(t('common.copy'), { class: 'secondary', onclick: () => copy(shown) }),
        button(t('settings.pair_new'), { class: 'secondary', onclick: (e) => { clearInterval(timer); busy(e.currentTarget, startPairing); } }),
        button(t('common.done'), { class: 'link', 'data-testid': 'pair-done', onclick: () => { clearInterval(timer); pairIdle(); loadDevices(); } })));
    tick();
  }

  // ---- devices ------------------------------------------------------------
  async function loadDevices() {
    try {
      const r = await api('/api/devices');
      const list = (r.devices || []).sort((a, b) => (b.current - a.current) || (b.last_seen || 0) - (a.last_seen || 0));
      clear(devices, h('ul.rows.wrap', list.map((d) => h('li.row', { 'data-testid': 'device-row', 'data-current': String(!!d.current) },
        h('div.row-link.static',
          h('span.row-icon', icon(d.kind === 'paired' ? 'phone' : 'key')),
          h('div.row-main',
            h('span.row-title', d.name || t('settings.device_unnamed')),
            d.current ? h('span', h('span.badge', t('settings.this_device'))) : null,
            h('span.row-sub', [t('settings.kind_' + d.kind), t('settings.last_seen', { when: ago(d.last_seen) })].join(' · ')),
            h('span.row-sub', [t('settings.since', { date: date(d.created) }), d.client].filter(Boolean).join(' · ')),
            h('div.row-actions', button(t('settings.revoke'), { class: 'secondary small danger-text', 'data-testid': 'device-revoke', 'aria-label': t('settings.revoke_name', { name: d.name }), onclick: () => revokeDevice(d) }))))))));
    } catch (e) { clear(devices, h('p.form-error', { role: 'alert' }, errorText(e))); }
  }

  async function revokeDevice(d) {
    const text = d.current ? t('settings.revoke_current') : t('settings.revoke_text', { name: d.name });
    if (!(await confirmDialog(t('settings.revoke_title'), text, t('settings.revoke'), true))) return;
    try {
      await api('/api/devices/' + encodeURIComponent(d.id), { method: 'DELETE' });
      if (d.current) { app.loggedOut(t('settings.logged_out')); return; }
      announce(t('settings.revoked', { name: d.name }), 'success');
      loadDevices();
    } catch (e) { if (e.status !== 401) announce(errorText(e), 'error'); }
  }

  // ---- tokens -------------------------------------------------------------
  const SCOPES = ['owner', 'docs:read', 'docs:write', 'files:read', 'files:write'];
  async function loadTokens() {
    try {
      const list = await api('/api/tokens');
      clear(tokens,
        list.length ? h('ul.rows.wrap', list.map((tk) => h('li.row', { 'data-testid': 'token-row' },
          h('div.row-link.static', h('span.row-icon', icon('key')),
            h('div.row-main', h('span.row-title', tk.name),
              h('span.row-sub.mono', tk.scopes.join(', ')),
              h('span.row-sub', [t('settings.since', { date: date(tk.created) }), tk.last_used ? t('settings.last_used', { when: ago(tk.last_used) }) : t('settings.never_used'), tk.expires ? t('settings.expires', { date: date(tk.expires) }) : null].filter(Boolean).join(' · ')),
              h('div.row-actions', button(t('settings.revoke'), { class: 'secondary small danger-text', 'data-testid': 'token-revoke', 'aria-label': t('settings.revoke_name', { name: tk.name }), onclick: () => revokeToken(tk) }))))))) : h('p.muted', t('settings.no_tokens')),
        button(t('settings.token_new'), { class: 'secondary', 'data-testid': 'token-new', onclick: newToken }, 'plus'));
    } catch (e) { clear(tokens, h('p.form-error', { role: 'alert' }, errorText(e))); }
  }

  async function newToken() {
    const created = await modal(t('settings.token_new'), (close) => {
      const name = field(t('settings.token_name'), { autocomplete: 'off', required: true, 'data-testid': 'token-name', maxlength: 100 });
      const err = errorBox();
      const boxes = SCOPES.map((s) => {
        const id = nextId('sc');
        return h('div.check', h('input', { type: 'checkbox', id, value: s, 'data-testid': 'scope-' + s }), h('label', { for: id }, h('span.mono', s), ' — ', t('scope.' + s)));
      });
      const submit = h('button.primary', { type: 'submit', 'data-testid': 'token-create' }, t('common.create'));
      requestAnimationFrame(() => name.input.focus());
      return h('form.stack', { onsubmit: (e) => {
        e.preventDefault();
        const scopes = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
        if (!name.input.value.trim()) { err.show(t('settings.token_name_empty')); return; }
        if (!scopes.length) { err.show(t('settings.token_scope_empty')); return; }
        busy(submit, async () => {
          try { close(await api('/api/tokens', { method: 'POST', body: { name: name.input.value.trim(), scopes } })); } catch (e2) { err.show(e2); }
        });
      } }, name, h('fieldset', h('legend', t('settings.token_scopes')), boxes), err,
      h('div.actions', button(t('common.cancel'), { class: 'secondary', onclick: () => close() }), submit));
    });
    if (!created) return;
    loadTokens();
    // Reloaded once the secret is dismissed: it may have been used meanwhile.
    await modal(t('settings.token_secret'), (close) => [
      h('p', t('settings.token_once')),
      h('p.secret.mono', { 'data-testid': 'token-secret', tabindex: '0' }, created.token),
      h('div.actions', button(t('common.copy'), { class: 'secondary', onclick: () => copy(created.token) }), button(t('common.done'), { class: 'primary', 'data-testid': 'token-done', onclick: () => close() })),
    ]);
    loadTokens();
  }

  async function revokeToken(tk) {
    if (!(await confirmDialog(t('settings.revoke_title'), t('settings.revoke_token', { name: tk.name }), t('settings.revoke'), true))) return;
    try { await api('/api/tokens/' + encodeURIComponent(tk.id), { method: 'DELETE' }); loadTokens(); } catch (e) { announce(errorText(e), 'error'); }
  }

  // ---- passphrase -----------------------------------------------------------
  function passphraseForm() {
    const current = field(t('settings.pass_current'), { type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'pass-current' });
    const next = passphraseFields({ testid: 'pass-new' });
    const err = errorBox();
    const submit = h('button.primary', { type: 'submit', 'data-testid': 'pass-submit' }, t('settings.pass_change'));
    return h('form.stack', { onsubmit: (e) => {
      e.preventDefault();
      err.hide();
      if (!current.input.value) { err.show(t('pass.empty')); current.input.focus(); return; }
      const v = next.value(err);
      if (!v) return;
      busy(submit, async () => {
        try {
          await api('/api/passphrase', { method: 'PUT', body: { current: current.input.value, new: v }, quiet401: true });
          current.input.value = '';
          next.reset();
          app.loggedOut(t('settings.pass_changed'));
        } catch (e2) {
          if (e2.code === 'wrong_passphrase') {
            err.show(t('settings.pass_current_wrong'));
            current.input.select();
          } else err.showFor(e2, submit);
        }
      });
    } }, h('p.muted', t('settings.pass_intro')), current, next, err, h('div.actions.left', submit));
  }

  // ---- factory reset ------------------------------------------------------------
  function resetIdle() {
    if (app.health && app.health.factory_reset_pending) { resetDone(); return; }
    clear(reset, h('p.muted', t('settings.reset_intro')),
      h('div.actions.left', button(t('settings.reset_start'), { class: 'secondary danger-text', 'data-testid': 'reset-start', onclick: factoryReset }, 'warning')));
  }

  function resetDone() {
    clear(reset, h('div.notice.warn', { 'data-testid': 'reset-done' }, icon('warning'), h('p', t('settings.reset_done'))));
  }

  async function factoryReset() {
    const done = await modal(t('settings.reset_title'), (close) => {
      const pass = field(t('settings.reset_passphrase'), { type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'reset-passphrase' });
      const err = errorBox();
      const submit = h('button.danger', { type: 'submit', 'data-testid': 'reset-submit' }, t('settings.reset_submit'));
      requestAnimationFrame(() => pass.input.focus());
      return h('form.stack', { onsubmit: (e) => {
        e.preventDefault();
        err.hide();
        if (!pass.input.value) { err.show(t('pass.empty')); pass.input.focus(); return; }
        busy(submit, async () => {
          try {
            await api('/api/system/factory-reset', { method: 'POST', body: { passphrase: pass.input.value } });
            close(true);
          } catch (e2) {
            if (e2.code === 'wrong_passphrase') { err.show(t('settings.reset_wrong')); pass.input.select(); } else err.showFor(e2, submit);
          }
        });
      } }, h('div.notice.danger', icon('warning'), h('p', t('settings.reset_warning'))), pass, err,
      h('div.actions', button(t('common.cancel'), { class: 'secondary', onclick: () => close(false) }), submit));
    });
    if (!done) return;
    if (app.health) app.health.factory_reset_pending = true;
    resetDone();
    announce(t('settings.reset_done'), 'success');
  }

  async function logout() {
    try { await api('/api/session', { method: 'DELETE' }); } catch { /* gone already */ }
    app.loggedOut(t('settings.logged_out'));
  }

  pairIdle();
  resetIdle();
  await Promise.all([loadBox(), loadDevices(), loadTokens()]);
  return {
    destroy() { timers.forEach(clearInterval); urls.forEach((u) => URL.revokeObjectURL(u)); },
  };
}
