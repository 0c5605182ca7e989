// Shown when the box does not answer (wrong network, box off, restarting).
import { t } from '../i18n.js';
import { h, clear, icon, button } from '../ui.js';

export default function offline(main, retry, app) {
  app.setTitle(t('offline.title'));
  clear(main, h('div.narrow', h('section.card.center', { 'data-testid': 'offline', 'aria-labelledby': 'off-h' },
    icon('cloudoff', 'big'),
    h('h2', { id: 'off-h' }, t('offline.heading')),
    h('p', t('offline.text')),
    h('ul.checklist', h('li', t('offline.tip_network')), h('li', t('offline.tip_power')), h('li', t('offline.tip_wait'))),
    button(t('offline.retry'), { class: 'primary block', 'data-testid': 'offline-retry', onclick: retry }))));
}
