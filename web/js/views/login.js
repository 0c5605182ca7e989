// Login with the passphrase, and recovery with the recovery key.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, clear, field, busy, errorBox, icon, passphraseFields, recoveryKeyPanel, langSwitch } from '../ui.js';

function hero(app) {
  return h('div.hero',
    h('img', { src: '/icons/icon.svg', alt: '', width: 64, height: 64 }),
    h('p.hero-title', 'Foyer'),
    h('p.muted', app.health ? app.health.name : ''));
}

export default function loginView(main, params, app) {
  const render = () => (params.name === 'recover' ? recover(main, app) : login(main, app));
  render();
  return { relabel: render };
}

function login(main, app) {
  app.setTitle(t('login.title'));
  const pass = field(t('login.passphrase'), { type: 'password', autocomplete: 'current-password', 'data-testid': 'login-passphrase', required: true });
  const submit = h('button.primary.block', { type: 'submit', 'data-testid': 'login-submit' }, t('login.submit'));
  const err = errorBox();
  const form = h('form.stack', { onsubmit: (e) => {
    e.preventDefault();
    err.hide();
    const passphrase = pass.input.value;
    if (!passphrase) { err.show(t('pass.empty')); pass.input.focus(); return; }
    busy(submit, async () => {
      try {
        const r = await api('/api/session', { method: 'POST', body: { passphrase }, quiet401: true });
        pass.input.value = '';
        await app.loggedInWith(r.csrf);
      } catch (e2) {
        err.showFor(e2, submit);
        pass.input.select();
      }
    });
  } }, pass, err, submit);
  clear(main, h('div.narrow',
    hero(app),
    h('section.card', { 'aria-labelledby': 'login-h' },
      h('h2', { id: 'login-h' }, t('login.heading')), form,
      h('p.center', h('a', { href: '#/recover', 'data-testid': 'forgot-link' }, t('login.forgot')))),
    h('div.lang-row.center', langSwitch())));
  pass.input.focus();
}

function recover(main, app) {
  app.setTitle(t('recover.title'), '#/login');
  const key = field(t('recover.key'), { tag: 'textarea', rows: 3, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', class: 'mono', 'data-testid': 'recovery-key-input', required: true }, t('recover.key_hint'));
  const pass = passphraseFields({ testid: 'new-passphrase' });
  const submit = h('button.primary.block', { type: 'submit', 'data-testid': 'recover-submit' }, t('recover.submit'));
  const err = errorBox();
  const card = h('section.card', { 'aria-labelledby': 'rec-h' });
  const form = h('form.stack', { onsubmit: (e) => {
    e.preventDefault();
    err.hide();
    const recovery_key = key.input.value.trim();
    if (!recovery_key) { err.show(t('recover.key_empty')); key.input.focus(); return; }
    const new_passphrase = pass.value(err);
    if (!new_passphrase) return;
    busy(submit, async () => {
      try {
        const r = await api('/api/recovery', { method: 'POST', body: { recovery_key, new_passphrase }, quiet401: true });
        const login = api('/api/session', { method: 'POST', body: { passphrase: new_passphrase }, quiet401: true }).catch(() => null);
        clear(card, h('h2', { id: 'rec-h' }, t('rk.new_title')),
          h('div.notice.ok', { 'data-testid': 'recover-done' }, icon('check'), h('p', t('recover.done'))),
          recoveryKeyPanel(r.recovery_key, app.health.name, async () => {
            const s = await login;
            if (s && s.csrf) app.loggedInWith(s.csrf);
            else app.navigate('#/login');
          }));
        card.querySelector('[data-testid=recovery-key]').focus();
      } catch (e2) { err.showFor(e2, submit); }
    });
  } }, key, pass, err, submit);
  card.append(h('h2', { id: 'rec-h' }, t('recover.heading')), h('p', t('recover.intro')), form);
  clear(main, h('div.narrow', card));
  key.input.focus();
}
