// Readable cards and field formatting for documents, per doctype.
import { t, has, money, number, date } from './i18n.js';
import { h, icon } from './ui.js';

/** Doctype → icon, the text fields to search, the default sort. */
export const DOCTYPES = {
  bill: { icon: 'bill', search: 'vendor', sort: [{ date: 'desc' }], fields: 'vendor amount currency date due_date reference file' },
  'bank.operation': { icon: 'bank', sort: [{ date: 'desc' }], fields: 'label amount date value_date counterparty account currency creditor_id mandate_id' },
  'bank.account': { icon: 'bank', fields: 'label bank balance balance_date iban currency' },
  'energy.reading': { icon: 'bolt', sort: [{ start: 'desc' }], fields: 'vendor kwh start end meter' },
  contact: { icon: 'contact', search: 'fullname', sort: [{ fullname: 'asc' }], fields: 'fullname given_name family_name organisation emails phones addresses birthday note' },
  note: { icon: 'note', search: 'title', fields: 'title content tags created_at updated_at' },
  link: { icon: 'link', fields: 'kind state confidence bill operation evidence' },
};

export function doctypeLabel(dt, plural = true) {
  const k = `dt.${dt}${plural ? '' : '.one'}`;
  return has(k) ? t(k) : dt;
}

/** The document's own fields, in a sensible reading order. */
export function orderedFields(dt, doc) {
  const order = ((DOCTYPES[dt] && DOCTYPES[dt].fields) || '').split(' ');
  const rank = (k) => { const i = order.indexOf(k); return i < 0 ? 999 : i; };
  return Object.entries(doc).filter(([k]) => !k.startsWith('_')).sort(([a], [b]) => rank(a) - rank(b));
}

export function doctypeIcon(dt) { return (DOCTYPES[dt] && DOCTYPES[dt].icon) || 'file'; }

const period = (a, b) => (a && b ? `${date(a)} – ${date(b)}` : date(a || b));
function maskIban(iban) { return iban ? `${iban.slice(0, 4)} •••• ${iban.slice(-4)}` : ''; }

/** { title, sub, value, valueClass, meta } for a document. */
export function summary(dt, d) {
  switch (dt) {
    case 'bill':
      return {
        title: d.vendor || t('dt.bill.one'), value: money(d.amount, d.currency),
        sub: [d.due_date ? t('card.due', { date: date(d.due_date) }) : t('card.issued', { date: date(d.date) }), d.reference].filter(Boolean).join(' · '),
      };
    case 'bank.operation': {
      const neg = typeof d.amount === 'number' && d.amount < 0;
      return {
        title: d.label || d.counterparty || t('dt.bank.operation.one'),
        value: money(d.amount, d.currency, true), valueClass: neg ? 'neg' : 'pos',
        sub: [date(d.date), d.counterparty && d.counterparty !== d.label ? d.counterparty : null].filter(Boolean).join(' · '),
      };
    }
    case 'bank.account':
      return {
        title: d.label || t('dt.bank.account.one'), value: money(d.balance, d.currency),
        valueClass: typeof d.balance === 'number' && d.balance < 0 ? 'neg' : '',
        sub: [d.bank, maskIban(d.iban), d.balance_date ? t('card.as_of', { date: date(d.balance_date) }) : null].filter(Boolean).join(' · '),
      };
    case 'energy.reading':
      return { title: d.vendor || t('dt.energy.reading.one'), value: `${number(d.kwh, 1)}\u00a0kWh`, sub: [period(d.start, d.end), d.meter].filter(Boolean).join(' · ') };
    case 'contact':
      return {
        title: d.fullname || [d.given_name, d.family_name].filter(Boolean).join(' ') || t('dt.contact.one'),
        sub: [d.organisation, d.emails && d.emails[0] && d.emails[0].address, d.phones && d.phones[0] && d.phones[0].number].filter(Boolean).join(' · '),
      };
    case 'note': {
      const text = String(d.content || '');
      return { title: d.title || text.split('\n')[0].slice(0, 80) || t('dt.note.one'), sub: d.title ? text.slice(0, 120) : date(d.updated_at || d.created_at) };
    }
    case 'link':
      return {
        title: t('link.' + (d.kind || 'payment')), value: typeof d.confidence === 'number' ? number(d.confidence * 100, 0) + '\u00a0%' : '',
        sub: has('link.state.' + d.state) ? t('link.state.' + d.state) : d.state || '',
      };
    default: {
      const title = d.name || d.title || d.label || d.fullname || d.vendor || d._id;
      return { title: String(title), sub: d.date ? date(d.date) : '' };
    }
  }
}

export function docHref(dt, id) { return `#/doc/${encodeURIComponent(dt)}/${encodeURIComponent(id)}`; }

/** "a · b · c" with each part kept on one line (a reference is not cut at its hyphens). */
function subParts(sub) {
  return String(sub || '').split(' · ').filter(Boolean).map((p, i) => [i ? ' · ' : null, h('span.nobr', p)]);
}

export function docCard(dt, d, { showType = false } = {}) {
  const s = summary(dt, d);
  return h('li', h('a.doc-card', { href: docHref(dt, d._id), 'data-testid': 'doc-card', 'data-doctype': dt },
    h('span.doc-icon.' + doctypeIcon(dt), icon(doctypeIcon(dt))),
    h('span.doc-main',
      h('span.doc-title', s.title),
      h('span.doc-sub', subParts(showType ? [doctypeLabel(dt, false), s.sub].filter(Boolean).join(' · ') : s.sub))),
    s.value ? h('span.doc-value' + (s.valueClass ? '.' + s.valueClass : ''), s.value) : null));
}

const MONEY_FIELDS = new Set(['amount', 'balance']);
const DATE_FIELDS = /(^|_)(date|start|end|birthday|at)$/;

/** A readable value for one field of a document. */
export function formatValue(key, v, doc) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number' && MONEY_FIELDS.has(key) && doc.currency) return money(v, doc.currency);
  if (typeof v === 'number' && key === 'kwh') return number(v, 3) + '\u00a0kWh';
  if (typeof v === 'number' && key === 'confidence') return number(v * 100, 0) + '\u00a0%';
  if (typeof v === 'number') return number(v, 6);
  if (key === 'iban' && typeof v === 'string') return v.replace(/(.{4})(?=.)/g, '$1 ');
  if (typeof v === 'boolean') return t(v ? 'common.yes' : 'common.no');
  if (typeof v === 'string' && DATE_FIELDS.test(key) && /^\d{4}-\d{2}-\d{2}/.test(v)) return date(v, v.length > 10);
  if (key === 'state' && has('link.state.' + v)) return t('link.state.' + v);
  if (key === 'kind' && doc.bill && has('link.' + v)) return t('link.' + v);
  if (typeof v === 'string') return v;
  return null; // objects and arrays: rendered as nested lists
}

export function fieldLabel(key, dt) {
  if (dt && has(`field.${dt}.${key}`)) return t(`field.${dt}.${key}`);
  return has('field.' + key) ? t('field.' + key) : key.replace(/_/g, ' ');
}
