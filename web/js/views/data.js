// Data: doctypes, documents of one doctype (search, paging), one document.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { h, clear, icon, button, spinner, emptyState, errorText, debounce, field } from '../ui.js';
import { DOCTYPES, doctypeLabel, doctypeIcon, docCard, docHref, summary, formatValue, fieldLabel, orderedFields } from '../cards.js';

const ORDER = ['bank.account', 'bank.operation', 'bill', 'energy.reading', 'contact', 'note', 'link'];
const TEXT_FIELDS = ['label', 'vendor', 'name', 'title', 'fullname'];
const PAGE = 25;
const dtUrl = (dt) => '/api/docs/' + encodeURIComponent(dt);

export default async function data(main, params, app) {
  if (params.name === 'doc') return detail(main, params.rest[0], params.rest[1], app);
  if (params.rest[0]) return list(main, params.rest[0], app);
  return index(main, app);
}

async function index(main, app) {
  app.setTitle(t('data.title'));
  const holder = h('div', spinner());
  clear(main, h('div.page', h('p.muted', t('data.intro')), holder));
  try {
    const all = await api('/api/doctypes');
    const rank = (d) => { const i = ORDER.indexOf(d.name); return i < 0 ? 100 : i; };
    all.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    clear(holder, h('ul.rows.card', { 'data-testid': 'doctype-list' }, all.map((d) => h('li.row',
      h('a.row-link', { href: '#/data/' + encodeURIComponent(d.name), 'data-testid': 'doctype-row', 'data-doctype': d.name },
        h('span.doc-icon.' + doctypeIcon(d.name), icon(doctypeIcon(d.name))),
        h('span.row-main', h('span.row-title', doctypeLabel(d.name)), h('span.row-sub', d.builtin ? d.name : t('data.custom', { name: d.name }))),
        icon('chevron', 'chev'))))));
  } catch (e) { clear(holder, h('p.form-error', { role: 'alert' }, errorText(e))); }
  return {};
}

const fold = (s) => String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

function textOf(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return Object.values(v).map(textOf).join(' ');
  return String(v);
}

async function list(main, dt, app) {
  app.setTitle(doctypeLabel(dt), '#/data');
  let info = { indexes: [] };
  try { info = await api(dtUrl(dt).replace('/docs/', '/doctypes/')); } catch { /* unknown: plain listing */ }
  const meta = DOCTYPES[dt] || {};
  const idx = new Set(info.indexes || []);
  const searchField = [meta.search, ...TEXT_FIELDS].find((f) => f && idx.has(f));
  const sortField = meta.sort && Object.keys(meta.sort[0])[0];
  const sort = sortField && idx.has(sortField) ? meta.sort : undefined;

  const search = field(t('data.search', { type: doctypeLabel(dt).toLowerCase() }), { type: 'search', autocomplete: 'off', 'data-testid': 'doc-search', enterkeyhint: 'search' },
    searchField ? t('data.search_prefix', { field: fieldLabel(searchField).toLowerCase() }) : t('data.search_local'));
  const results = h('ul.cards', { 'data-testid': 'doc-list' });
  const more = button(t('data.more'), { class: 'secondary block', 'data-testid': 'load-more', onclick: () => page(false) });
  const state = h('div', { 'aria-live': 'polite' });
  clear(main, h('div.page',
    h('form.searchbar', { role: 'search', onsubmit: (e) => { e.preventDefault(); reload(); } }, search),
    results, state, more));
  more.hidden = true;

  let bookmark = null;
  let query = '';
  let gen = 0;

  function selector() {
    if (!query || !searchField) return {};
    const q = query;
    const variants = [...new Set([q, q[0].toUpperCase() + q.slice(1), q.toLowerCase(), q.toUpperCase()])];
    const range = (v) => ({ [searchField]: { $gte: v, $lt: v + '\uffff' } });
    return variants.length === 1 ? range(variants[0]) : { $or: variants.map(range) };
  }

  async function page(first) {
    const mine = first ? ++gen : gen;
    if (first) { bookmark = null; clear(results); clear(state, spinner()); }
    more.disabled = true;
    let shown = 0;
    try {
      // Without an index to search, filter pages here until one is full.
      for (let round = 0; round < 10; round++) {
        const body = { selector: selector(), limit: searchField || !query ? PAGE : 200 };
        if (sort) body.sort = sort;
        if (bookmark) body.bookmark = bookmark;
        const r = await api(`${dtUrl(dt)}/_find`, { method: 'POST', body });
        if (mine !== gen) return;
        let docs = r.docs;
        if (query && !searchField) docs = docs.filter((d) => fold(textOf(d)).includes(fold(query)));
        results.append(...docs.map((d) => docCard(dt, d)));
        shown += docs.length;
        bookmark = r.bookmark || null;
        if (!bookmark || searchField || !query || shown >= PAGE) break;
      }
      clear(state, results.children.length ? null
        : query ? emptyState('search', t('data.no_match', { q: query }), null)
          : emptyState(doctypeIcon(dt), t('data.empty_title'), t('data.empty_text')));
      more.hidden = !bookmark;
    } catch (e) {
      if (mine === gen) clear(state, h('p.form-error', { role: 'alert' }, errorText(e)));
    } finally { more.disabled = false; }
  }

  const reload = () => { query = search.input.value.trim(); page(true); };
  search.input.addEventListener('input', debounce(reload, 300));
  await page(true);
  return { onChanges: (changes) => { if (changes.some((c) => c.doctype === dt)) page(true); } };
}

// References between built-in doctypes, for links in the detail view.
const REFS = { account: 'bank.account', bill: 'bill', operation: 'bank.operation' };

function valueNode(key, v, doc, dt) {
  if (typeof v === 'string' && REFS[key] && dt !== REFS[key] && (dt !== 'link' || key !== 'account')) {
    return h('a', { href: docHref(REFS[key], v) }, t('data.open_ref', { type: doctypeLabel(REFS[key], false) }));
  }
  const f = formatValue(key, v, doc);
  if (f !== null) return f;
  if (Array.isArray(v)) {
    if (!v.length) return '—';
    return h('ul.plain', v.map((x) => h('li', typeof x === 'object' && x
      ? Object.entries(x).filter(([k]) => k !== 'label').map(([, y]) => textOf(y)).join(', ') + (x.label ? ` (${x.label})` : '')
      : formatValue(key, x, doc) ?? textOf(x))));
  }
  return h('pre.json', JSON.stringify(v, null, 2));
}

async function related(dt, doc) {
  const find = (type, selector, sort) => api(`${dtUrl(type)}/_find`, { method: 'POST', body: { selector, limit: 20, ...(sort ? { sort } : {}) } }).then((r) => r.docs).catch(() => []);
  if (dt === 'bank.account') {
    return { title: t('data.rel_operations'), type: 'bank.operation', docs: await find('bank.operation', { account: doc._id }, [{ date: 'desc' }]) };
  }
  if (dt === 'bill' || dt === 'bank.operation') {
    const mine = dt === 'bill' ? 'bill' : 'operation';
    const other = dt === 'bill' ? 'operation' : 'bill';
    const links = (await find('link', { [mine]: doc._id })).filter((l) => l.state !== 'rejected');
    const ids = links.map((l) => l[other]);
    const type = REFS[other];
    const docs = ids.length ? await find(type, { _id: { $in: ids } }) : [];
    return { title: t(dt === 'bill' ? 'data.rel_payments' : 'data.rel_bills'), type, docs };
  }
  return null;
}

async function detail(main, dt, id, app) {
  app.setTitle(doctypeLabel(dt, false), '#/data/' + encodeURIComponent(dt));
  const holder = h('div.page', spinner());
  clear(main, holder);

  async function load() {
    let doc;
    try {
      doc = await api(`${dtUrl(dt)}/${encodeURIComponent(id)}`);
    } catch (e) {
      clear(holder, e.status === 404 ? emptyState('warning', t('data.gone'), null, h('a.button.secondary', { href: '#/data/' + encodeURIComponent(dt) }, t('common.back')))
        : h('p.form-error', { role: 'alert' }, errorText(e)));
      return;
    }
    const s = summary(dt, doc);
    const fields = orderedFields(dt, doc);
    const rel = h('div');
    clear(holder,
      h('section.card.doc-head', { 'data-testid': 'doc-detail' },
        h('span.doc-icon.big.' + doctypeIcon(dt), icon(doctypeIcon(dt))),
        h('h2', s.title),
        s.value ? h('p.doc-big' + (s.valueClass ? '.' + s.valueClass : ''), s.value) : null,
        s.sub ? h('p.muted', s.sub) : null),
      h('section.card', { 'aria-labelledby': 'fields-h' },
        h('h2.card-title', { id: 'fields-h' }, t('data.fields')),
        h('dl.fields', fields.map(([k, v]) => [h('dt', fieldLabel(k, dt)), h('dd', { 'data-field': k }, valueNode(k, v, doc, dt))])),
        h('details.tech', h('summary', t('data.technical')),
          h('dl.fields', h('dt', t('data.doctype')), h('dd', dt), h('dt', 'ID'), h('dd.mono', doc._id), h('dt', t('data.revision')), h('dd.mono', doc._rev)))),
      rel);
    const r = await related(dt, doc);
    if (r && r.docs.length) {
      clear(rel, h('section', h('div.section-head', h('h2', r.title)), h('ul.cards', r.docs.map((d) => docCard(r.type, d)))));
    }
  }
  await load();
  return { onChanges: (changes) => { if (changes.some((c) => c.doctype === dt && c.id === id)) load(); } };
}
