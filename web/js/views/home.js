// Home: what arrived recently across sources, and a short box status.
import { api } from '../api.js';
import { t, money } from '../i18n.js';
import { h, clear, spinner, emptyState, errorText } from '../ui.js';
import { docCard } from '../cards.js';

const RECENT = 40;

async function recentDocs(signal) {
  const head = await api('/api/changes?since=9007199254740991&limit=1', { signal });
  const since = Math.max(0, head.last_seq - RECENT);
  const page = await api(`/api/changes?since=${since}&limit=${RECENT}`, { signal });
  const live = page.results.filter((c) => !c.deleted).reverse();
  const byType = new Map();
  for (const c of live) {
    if (!byType.has(c.doctype)) byType.set(c.doctype, []);
    byType.get(c.doctype).push(c.id);
  }
  const docs = new Map();
  await Promise.all([...byType].map(async ([dt, ids]) => {
    try {
      const r = await api(`/api/docs/${encodeURIComponent(dt)}/_find`, { method: 'POST', body: { selector: { _id: { $in: ids } }, limit: ids.length }, signal });
      for (const d of r.docs) docs.set(dt + '\u0000' + d._id, d);
    } catch { /* a doctype we cannot read: skip */ }
  }));
  return live.map((c) => ({ dt: c.doctype, doc: docs.get(c.doctype + '\u0000' + c.id) })).filter((x) => x.doc);
}

export default async function home(main, params, app) {
  app.setTitle(t('home.title'));
  let ctrl;
  const status = h('section.card.status-card', { 'aria-labelledby': 'st-h' });
  const accounts = h('section', { 'aria-labelledby': 'acc-h' });
  const recent = h('section', { 'aria-labelledby': 'rec-h' }, spinner());
  clear(main, h('div.page', h('p.greeting', t('home.greeting')), status, accounts, recent));

  const hl = app.health || {};
  clear(status, h('div.status-line',
    h('span.dot.ok', { 'aria-hidden': 'true' }),
    h('div',
      h('h2', { id: 'st-h' }, t('home.box_ok')),
      h('p.muted', [app.boxName(), hl.version ? t('home.version', { v: hl.version }) : null].filter(Boolean).join(' · ')))));

  async function loadAccounts(signal) {
    let docs = [];
    try { docs = (await api('/api/docs/bank.account/_find', { method: 'POST', body: { selector: {}, limit: 10 }, signal })).docs; } catch (e) { if (e.name === 'AbortError') throw e; }
    if (!docs.length) { accounts.hidden = true; return; }
    accounts.hidden = false;
    const cur = docs[0].currency || 'EUR';
    const same = docs.every((d) => (d.currency || 'EUR') === cur && typeof d.balance === 'number');
    clear(accounts,
      h('div.section-head', h('h2', { id: 'acc-h' }, t('home.accounts')),
        same && docs.length > 1 ? h('span.muted.small', `${t('home.total')} ${money(docs.reduce((a, d) => a + d.balance, 0), cur)}`) : null),
      h('ul.cards', docs.map((d) => docCard('bank.account', d))));
  }

  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    try {
      const [items] = await Promise.all([recentDocs(ctrl.signal), loadAccounts(ctrl.signal)]);
      const shown = items.filter((x) => x.dt !== 'bank.account').slice(0, 12);
      clear(recent, h('div.section-head', h('h2', { id: 'rec-h' }, t('home.recent')), h('a', { href: '#/data' }, t('home.see_all'))),
        shown.length
          ? h('ul.cards', { 'data-testid': 'recent-list' }, shown.map((x) => docCard(x.dt, x.doc, { showType: true })))
          : emptyState('data', t('home.empty_title'), t('home.empty_text'), h('a.button.secondary', { href: '#/files/' }, t('home.go_files'))));
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(recent, h('p.form-error', { role: 'alert' }, errorText(e)));
    }
  }

  await load();
  return {
    onChanges: load,
    destroy: () => ctrl && ctrl.abort(),
  };
}
