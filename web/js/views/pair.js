// Pairing link from a QR code: #pair=CODE&fp=HEX. The fingerprint in the
// link must match the box's CA before the code is sent.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, clear, field, busy, errorBox, errorText, fingerprintBlock, icon, button } from '../ui.js';

const norm = (s) => String(s || '').replace(/[^0-9a-f]/gi, '').toLowerCase();

function defaultName() {
  const ua = navigator.userAgent;
  if (/iPhone|Android.*Mobile/.test(ua)) return t('pair.name_phone');
  if (/iPad|Android|Tablet/.test(ua)) return t('pair.name_tablet');
  return t('pair.name_computer');
}

export default function pairView(main, params, app) {
  const clearFragment = () => history.replaceState(null, '', location.pathname + '#/');

  function render() {
    app.setTitle(t('pair.title'));
    const expected = norm(app.health.ca_fingerprint);
    if (!params.fp || norm(params.fp) !== expected) {
      clear(main, h('div.narrow', h('section.card', { 'aria-labelledby': 'pair-h', 'data-testid': 'pair-mismatch' },
        h('div.notice.danger', icon('warning'), h('div',
          h('h2', { id: 'pair-h' }, t('pair.mismatch_title')),
          h('p', t('pair.mismatch_text')))),
        h('p.muted', t('pair.fp_link')), fingerprintBlock(params.fp || ''),
        h('p.muted', t('pair.fp_box')), fingerprintBlock(app.health.ca_fingerprint),
        button(t('pair.cancel'), { class: 'secondary block', onclick: () => { clearFragment(); app.restart(); } }))));
      return;
    }
    const name = field(t('pair.device_name'), { value: defaultName(), autocomplete: 'off', 'data-testid': 'device-name', required: true, maxlength: 64 }, t('pair.device_hint'));
    const submit = h('button.primary.block', { type: 'submit', 'data-testid': 'pair-submit' }, t('pair.submit'));
    const err = errorBox();
    clear(main, h('div.narrow', h('section.card', { 'aria-labelledby': 'pair-h' },
      h('h2', { id: 'pair-h' }, t('pair.heading', { name: app.health.name })),
      h('div.notice.ok', icon('check'), h('p', t('pair.fp_ok'))),
      fingerprintBlock(app.health.ca_fingerprint),
      h('form.stack', { onsubmit: (e) => {
        e.preventDefault();
        err.hide();
        const device_name = name.input.value.trim();
        if (!device_name) { name.input.focus(); return; }
        busy(submit, async () => {
          try {
            const r = await api('/api/pairing/redeem', { method: 'POST', body: { code: params.pair, device_name }, quiet401: true });
            clearFragment();
            await app.loggedInWith(r.csrf);
          } catch (e2) {
            if (e2.code === 'wrong_pairing_code') failed(e2);
            else err.showFor(e2, submit);
          }
        });
      } }, name, err, submit,
      button(t('pair.cancel'), { class: 'link', onclick: () => { clearFragment(); app.restart(); } })))));
    name.input.focus();
  }
  // A used, expired or wrong code: trying again cannot help; say so and
  // offer the passphrase instead.
  function failed(e) {
    clear(main, h('div.narrow', h('section.card', { 'aria-labelledby': 'pair-h', 'data-testid': 'pair-failed' },
      h('div.notice.danger', icon('warning'), h('div',
        h('h2', { id: 'pair-h' }, t('pair.failed_title')),
        h('p', errorText(e)))),
      button(t('pair.use_passphrase'), { class: 'primary block', 'data-testid': 'pair-login', onclick: () => { clearFragment(); app.restart(); } }))));
  }

  render();
  return { relabel: render };
}
