// Onboarding of an unclaimed box: claim code → passphrase → recovery key →
// the box's name. The passphrase stays in memory only until the first login.
import { api, setCsrf } from '../api.js';
import { t } from '../i18n.js';
import { h, clear, field, button, busy, errorBox, passphraseFields, recoveryKeyPanel, fingerprintBlock, langSwitch, steps, icon } from '../ui.js';

export default function onboarding(main, params, app) {
  const st = { step: 1, claim: params.claim || '', key: null, login: null, error: null };

  function frame(title, ...body) {
    app.setTitle(t('onb.title'));
    const err = errorBox();
    const card = h('section.card.onb', { 'aria-labelledby': 'onb-h' },
      steps(st.step, 4), h('h2', { id: 'onb-h' }, title), body, err);
    clear(main, h('div.narrow', card));
    if (st.error) { err.show(st.error); st.error = null; }
    return err;
  }

  function render() {
    [null, step1, step2, step3, step4][st.step]();
  }

  function step1() {
    const code = field(t('onb.claim_label'), {
      value: st.claim, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
      'data-testid': 'claim-code', required: true, inputmode: 'text', placeholder: 'XXXX-XXXX-XXXX',
    }, t('onb.claim_hint'));
    const err = frame(t('onb.welcome'),
      h('p.lead', t('onb.intro')),
      h('div.lang-row', h('span.muted', t('settings.language')), langSwitch()),
      h('div.notice', icon('shield'), h('div',
        h('p', h('strong', t('onb.fp_title'))), h('p.muted', t('onb.fp_text')), fingerprintBlock(app.health.ca_fingerprint))),
      h('form.stack', { onsubmit: (e) => {
        e.preventDefault();
        st.claim = code.input.value.trim();
        if (!st.claim) { err.show(t('onb.claim_empty')); code.input.focus(); return; }
        st.step = 2; render();
      } }, code, h('button.primary.block', { type: 'submit', 'data-testid': 'claim-next' }, t('common.next'))));
    if (!st.claim) code.input.focus();
  }

  function step2() {
    const pass = passphraseFields({ testid: 'passphrase' });
    const submit = h('button.primary.block', { type: 'submit', 'data-testid': 'setup-submit' }, t('onb.create'));
    const err = frame(t('onb.pass_title'),
      h('p', t('onb.pass_intro')),
      h('form.stack', { onsubmit: (e) => {
        e.preventDefault();
        err.hide();
        const passphrase = pass.value(err);
        if (!passphrase) return;
        busy(submit, async () => {
          try {
            const r = await api('/api/setup', { method: 'POST', body: { claim_code: st.claim, passphrase }, quiet401: true });
            st.key = r.recovery_key;
            // Log in now, while the key is read; the passphrase is then forgotten.
            st.login = api('/api/session', { method: 'POST', body: { passphrase }, quiet401: true }).catch((e2) => ({ failed: e2 }));
            pass.reset();
            st.step = 3; render();
          } catch (e2) {
            if (e2.code === 'wrong_claim_code') { st.error = t('err.wrong_claim_code'); st.step = 1; render(); return; }
            if (e2.code === 'already_claimed') { app.restart(); return; }
            err.showFor(e2, submit);
          }
        });
      } }, pass, submit,
      button(t('common.back'), { class: 'link', onclick: () => { st.step = 1; render(); } })));
    pass.focus();
  }

  function step3() {
    frame(t('rk.title'), recoveryKeyPanel(st.key, app.health.name, () => { st.key = null; st.step = 4; render(); }));
    main.querySelector('[data-testid=recovery-key]').focus();
  }

  async function step4() {
    const name = field(t('onb.name_label'), { value: t('onb.name_default'), autocomplete: 'off', 'data-testid': 'box-name', required: true, maxlength: 64 }, t('onb.name_hint'));
    const save = h('button.primary.block', { type: 'submit', 'data-testid': 'box-name-submit' }, t('onb.finish'));
    const err = frame(t('onb.name_title'),
      h('form.stack', { onsubmit: (e) => { e.preventDefault(); finish(name.input.value.trim()); } }, name, save));
    name.input.focus();
    name.input.select();

    async function session() {
      const r = await st.login;
      if (r && r.csrf) return r.csrf;
      throw (r && r.failed) || new Error('login');
    }

    function finish(boxName) {
      busy(save, async () => {
        let csrf;
        try { csrf = await session(); } catch {
          // The automatic login did not work (rate limit…): log in by hand.
          app.loggedIn = false;
          app.navigate('#/login');
          return;
        }
        setCsrf(csrf);
        if (boxName) {
          try {
            await api('/api/box', { method: 'PUT', body: { name: boxName } });
          } catch (e2) {
            if (e2.status !== 404) { err.show(e2); return; }
          }
        }
        await app.loggedInWith(csrf);
      });
    }
  }

  render();
  return { relabel: render };
}
