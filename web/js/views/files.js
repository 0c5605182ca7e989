// Files: folders, breadcrumbs, uploads (with the camera) with progress,
// previews, rename/move, trash and restore.
import { api, encodePath, upload, fetchBlob } from '../api.js';
import { t, bytes, date, ago } from '../i18n.js';
import { h, clear, icon, button, spinner, emptyState, errorText, announce, modal, confirmDialog, promptDialog, nextId } from '../ui.js';

const EXT_MIME = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic', svg: 'image/svg+xml', pdf: 'application/pdf', txt: 'text/plain', md: 'text/plain', csv: 'text/csv', json: 'application/json', mp4: 'video/mp4', webm: 'video/webm', mp3: 'audio/mpeg', m4a: 'audio/mp4', ogg: 'audio/ogg', wav: 'audio/wav' };

function mimeOf(e) {
  const ext = (e.name.split('.').pop() || '').toLowerCase();
  return (e.mime && e.mime !== 'application/octet-stream' ? e.mime : EXT_MIME[ext]) || e.mime || '';
}

function kindOf(e) {
  const m = mimeOf(e);
  if (m.startsWith('image/') && m !== 'image/heic') return 'image';
  if (m === 'application/pdf') return 'pdf';
  if (m.startsWith('video/')) return 'video';
  if (m.startsWith('audio/')) return 'audio';
  if ((m.startsWith('text/') || m === 'application/json') && e.size < 512 * 1024) return 'text';
  return null;
}

const join = (dir, name) => (dir ? `${dir}/${name}` : name);
const fileUrl = (p, dir = false) => '/api/files/' + encodePath(p) + (dir ? '/' : '');
const folderHash = (p) => '#/files/' + (p ? encodePath(p) + '/' : '');
const parentOf = (p) => p.split('/').slice(0, -1).join('/');

function uniqueName(name, taken) {
  if (!taken.has(name)) return name;
  const dot = name.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let i = 2; ; i++) { const n = `${base} (${i})${ext}`; if (!taken.has(n)) return n; }
}

function photoName(file) {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  const ext = (file.name.split('.').pop() || 'jpg').toLowerCase();
  return `Photo ${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}.${p(d.getMinutes())}.${p(d.getSeconds())}.${ext}`;
}

const folderName = (p) => (p ? p.split('/').join(' / ') : t('files.root'));

/** Every folder's path ('' first, for the top level), walking the tree; capped. */
async function allFolders(limit = 500) {
  const out = [''];
  for (let i = 0; i < out.length && out.length < limit; i++) {
    const r = await api(fileUrl(out[i], !!out[i]));
    for (const e of r.entries) if (e.kind === 'dir') out.push(join(out[i], e.name));
  }
  return [''].concat(out.slice(1).sort((a, b) => a.localeCompare(b)));
}

export default async function files(main, params, app) {
  return params.name === 'trash' ? trashView(main, app) : folderView(main, params, app);
}

async function folderView(main, params, app) {
  const segs = params.rest.filter(Boolean);
  const path = segs.join('/');
  app.setTitle(segs.length ? segs[segs.length - 1] : t('files.title'), segs.length ? folderHash(parentOf(path)) : null);
  let entries = [];

  const crumbs = h('nav.crumbs', { 'aria-label': t('files.breadcrumb'), hidden: !segs.length },
    h('ol', h('li', segs.length ? h('a', { href: '#/files/' }, t('files.root')) : h('span', { 'aria-current': 'page' }, t('files.root'))),
      segs.map((s, i) => h('li', i === segs.length - 1
        ? h('span', { 'aria-current': 'page' }, s)
        : h('a', { href: folderHash(segs.slice(0, i + 1).join('/')) }, s)))));

  const pickId = nextId('up');
  const camId = nextId('cam');
  const picker = h('input.sr-only', { type: 'file', multiple: true, id: pickId, tabindex: '-1', 'data-testid': 'upload-input', onchange: (e) => { enqueue([...e.target.files], false); e.target.value = ''; } });
  const camera = h('input.sr-only', { type: 'file', accept: 'image/*', capture: 'environment', id: camId, tabindex: '-1', 'data-testid': 'camera-input', onchange: (e) => { enqueue([...e.target.files], true); e.target.value = ''; } });
  const toolbar = h('div.toolbar',
    h('label.sr-only', { for: pickId }, t('files.upload')), picker,
    h('label.sr-only', { for: camId }, t('files.camera')), camera,
    button(t('files.upload'), { class: 'primary', 'data-testid': 'upload-button', onclick: () => picker.click() }, 'upload'),
    button(t('files.camera'), { class: 'secondary', 'data-testid': 'camera-button', onclick: () => camera.click() }, 'camera'),
    button(t('files.new_folder'), { class: 'secondary', 'data-testid': 'new-folder', onclick: newFolder }, 'plus'));
  const queue = h('ul.uploads', { 'aria-label': t('files.uploads') });
  const list = h('div', spinner());
  const footer = h('p.center', h('a.muted-link', { href: '#/trash', 'data-testid': 'trash-link' }, icon('trash'), t('files.trash')));
  clear(main, h('div.page', crumbs, toolbar, queue, list, footer));

  // Drop files from a computer.
  main.ondragover = (e) => { e.preventDefault(); main.classList.add('dropping'); };
  main.ondragleave = () => main.classList.remove('dropping');
  main.ondrop = (e) => { e.preventDefault(); main.classList.remove('dropping'); enqueue([...e.dataTransfer.files], false); };

  async function load() {
    try {
      const r = await api(fileUrl(path, !!path));
      entries = r.entries.slice().sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
      render();
    } catch (e) {
      clear(list, e.status === 404
        ? emptyState('folder', t('files.missing'), null, h('a.button.secondary', { href: '#/files/' }, t('files.root')))
        : h('p.form-error', { role: 'alert' }, errorText(e)));
    }
  }

  function render() {
    if (!entries.length) {
      clear(list, emptyState('folder', t('files.empty_title'), t('files.empty_text')));
      return;
    }
    clear(list, h('ul.rows.card', { 'data-testid': 'file-list' }, entries.map(row)));
  }

  function row(e) {
    const p = join(path, e.name);
    const dir = e.kind === 'dir';
    const k = dir ? null : kindOf(e);
    const meta = dir ? t('files.folder') : `${bytes(e.size)} · ${date(e.updated)}`;
    const body = [h('span.row-icon' + (dir ? '.dir' : ''), icon(dir ? 'folder' : k === 'image' ? 'image' : 'file')),
      h('span.row-main', h('span.row-title', e.name), h('span.row-sub', meta))];
    const mainPart = dir
      ? h('a.row-link', { href: folderHash(p), 'data-testid': 'file-open' }, body)
      : h('button.row-link', { type: 'button', 'data-testid': 'file-open', onclick: () => (k ? preview(e, p, k) : actions(e, p)) }, body);
    return h('li.row', { 'data-testid': 'file-row', 'data-name': e.name, 'data-kind': e.kind }, mainPart,
      button('', { class: 'icon-btn', 'aria-label': t('files.actions_for', { name: e.name }), 'data-testid': 'file-actions', onclick: () => actions(e, p) }, 'more'));
  }

  async function actions(e, p) {
    const dir = e.kind === 'dir';
    const k = dir ? null : kindOf(e);
    const choice = await modal(e.name, (close) => h('div.menu',
      dir ? null : h('p.muted', `${bytes(e.size)} · ${t('files.updated', { when: ago(e.updated) })}`),
      k ? button(t('files.preview'), { 'data-testid': 'action-preview', onclick: () => close('preview') }, 'image') : null,
      dir ? null : h('a.button.menu-item', { href: fileUrl(p), download: e.name, 'data-testid': 'action-download', onclick: () => close() }, icon('download'), h('span', t('files.download'))),
      button(t('files.rename'), { 'data-testid': 'action-rename', onclick: () => close('rename') }, 'note'),
      button(t('files.move'), { 'data-testid': 'action-move', onclick: () => close('move') }, 'folder'),
      button(t('files.to_trash'), { class: 'danger-text', 'data-testid': 'action-trash', onclick: () => close('trash') }, 'trash')));
    if (choice === 'preview') preview(e, p, k);
    if (choice === 'rename') {
      const name = await promptDialog(t('files.rename'), t('files.new_name'), e.name, t('files.rename'));
      if (name && name !== e.name) move(e, p, join(path, name));
    }
    if (choice === 'move') {
      const dest = await chooseFolder(e, p);
      if (dest !== undefined && dest !== path) move(e, p, join(dest, e.name), dest);
    }
    if (choice === 'trash') {
      try {
        await api(fileUrl(p, e.kind === 'dir'), { method: 'DELETE' });
        announce(t('files.trashed', { name: e.name }), 'success');
        load();
      } catch (err) { announce(errorText(err), 'error'); }
    }
  }

  async function move(e, from, to, folder) {
    if (from === to) return;
    try {
      await api(fileUrl(from, e.kind === 'dir'), { method: 'PATCH', body: { to } });
      announce(folder === undefined ? t('files.moved', { name: e.name }) : t('files.moved_to', { name: e.name, folder: folderName(folder) }), 'success');
      load();
    } catch (err) { announce(errorText(err), 'error'); }
  }

  // Where to move `e` (at `p`): every folder of the box, the current one
  // chosen, `e` itself and what it holds left out. Resolves with the
  // folder's path ('' for the top level), or undefined.
  async function chooseFolder(e, p) {
    let folders;
    try { folders = await allFolders(); } catch (err) { announce(errorText(err), 'error'); return undefined; }
    const inside = (f) => e.kind === 'dir' && (f === p || f.startsWith(p + '/'));
    const group = nextId('dest');
    return modal(t('files.move_title', { name: e.name }), (close) => {
      const options = folders.filter((f) => !inside(f)).map((f) => {
        const id = nextId('d');
        return h('li', h('input.sr-only', { type: 'radio', name: group, id, value: f, checked: f === path, 'data-testid': 'move-dest', 'data-path': f }),
          h('label.dest', { for: id }, icon('folder'), h('span.dest-name', folderName(f)), icon('check', 'dest-check')));
      });
      return h('form.stack', { onsubmit: (ev) => {
        ev.preventDefault();
        const picked = ev.target.querySelector('input:checked');
        if (picked) close(picked.value);
      } }, h('fieldset', h('legend', t('files.move_to')), h('ul.dest-list', options)),
      h('div.actions', button(t('common.cancel'), { class: 'secondary', onclick: () => close(undefined) }),
        h('button.primary', { type: 'submit', 'data-testid': 'move-ok' }, t('files.move_here'))));
    });
  }

  async function preview(e, p, k) {
    let url;
    const holder = h('div.preview', spinner());
    modal(e.name, () => [holder, h('div.actions',
      h('a.button.secondary', { href: fileUrl(p), download: e.name }, icon('download'), h('span', t('files.download'))))], { wide: true })
      .then(() => url && URL.revokeObjectURL(url));
    try {
      const blob = await fetchBlob(fileUrl(p));
      const typed = blob.type && blob.type !== 'application/octet-stream' ? blob : new Blob([blob], { type: mimeOf(e) });
      url = URL.createObjectURL(typed);
      if (k === 'image') clear(holder, h('img', { src: url, alt: e.name, 'data-testid': 'preview-image' }));
      else if (k === 'pdf') clear(holder, h('iframe', { src: url, title: e.name, 'data-testid': 'preview-pdf' }));
      else if (k === 'video') clear(holder, h('video', { src: url, controls: true }));
      else if (k === 'audio') clear(holder, h('audio', { src: url, controls: true }));
      else clear(holder, h('pre.text-preview', await typed.text()));
    } catch (err) { clear(holder, h('p.form-error', { role: 'alert' }, errorText(err))); }
  }

  async function newFolder() {
    const name = await promptDialog(t('files.new_folder'), t('files.folder_name'), '', t('common.create'));
    if (!name) return;
    try {
      await api(fileUrl(join(path, name.replace(/\/+$/, '')), true), { method: 'PUT', body: new Blob([]) });
      announce(t('files.folder_created', { name }), 'success');
      load();
    } catch (err) { announce(errorText(err), 'error'); }
  }

  // Uploads: one at a time, each with its progress bar.
  const pending = [];
  let uploading = false;
  let active = null;
  function enqueue(list, fromCamera) {
    const taken = new Set(entries.map((e) => e.name));
    for (const f of list) {
      const name = uniqueName(fromCamera ? photoName(f) : f.name, taken);
      taken.add(name);
      const bar = h('progress', { max: '100', value: '0', 'aria-label': t('files.progress', { name }) });
      const state = h('span.upload-state', t('files.waiting'));
      const item = { file: f, name, bar, state, cancelled: false };
      item.cancel = button('', { class: 'icon-btn', 'aria-label': t('files.cancel_upload', { name }), onclick: () => {
        item.cancelled = true;
        if (item.xhr) item.xhr.abort();
        item.el.remove();
      } }, 'close');
      item.el = h('li.upload', { 'data-testid': 'upload-item' }, h('div.upload-head', h('span.upload-name', name), state, item.cancel), bar);
      queue.append(item.el);
      pending.push(item);
    }
    pump();
  }

  async function pump() {
    if (uploading) return;
    uploading = true;
    while (pending.length) {
      const item = pending.shift();
      if (item.cancelled) continue;
      active = item;
      item.state.textContent = '0 %';
      const up = upload(fileUrl(join(path, item.name)), item.file, (f) => {
        item.bar.value = Math.round(f * 100);
        item.state.textContent = `${Math.round(f * 100)} %`;
      });
      item.xhr = up;
      try {
        await up.promise;
        item.bar.value = 100;
        item.state.textContent = t('files.done');
        item.el.classList.add('done');
        announce(t('files.uploaded', { name: item.name }), 'success');
        setTimeout(() => item.el.remove(), 2500);
        load();
      } catch (err) {
        if (err.code === 'aborted') continue;
        item.el.classList.add('failed');
        item.state.textContent = errorText(err);
        announce(t('files.upload_failed', { name: item.name }), 'error');
      }
    }
    active = null;
    uploading = false;
  }

  await load();
  return {
    destroy() {
      main.ondragover = main.ondragleave = main.ondrop = null;
      if (active && active.xhr) { /* let the upload finish in the background */ }
    },
  };
}

async function trashView(main, app) {
  app.setTitle(t('trash.title'), '#/files/');
  const list = h('div', spinner());
  const emptyBtn = button(t('trash.empty'), { class: 'secondary danger-text', 'data-testid': 'trash-empty', onclick: emptyAll }, 'trash');
  clear(main, h('div.page', h('p.muted', t('trash.intro')), list, h('div.actions', emptyBtn)));

  async function load() {
    try {
      const items = (await api('/api/trash')).sort((a, b) => b.trashed_at - a.trashed_at);
      emptyBtn.hidden = !items.length;
      clear(list, items.length
        ? h('ul.rows.card', items.map((e) => h('li.row', { 'data-testid': 'trash-row', 'data-name': e.name },
          h('span.row-link.static', h('span.row-icon' + (e.kind === 'dir' ? '.dir' : ''), icon(e.kind === 'dir' ? 'folder' : 'file')),
            h('span.row-main', h('span.row-title', e.name), h('span.row-sub', `${t('trash.from', { folder: folderName(parentOf(e.original_path.replace(/^\/+/, ''))) })} · ${ago(e.trashed_at)}`))),
          button('', { class: 'icon-btn', 'aria-label': t('trash.restore_name', { name: e.name }), 'data-testid': 'trash-restore', onclick: () => restore(e) }, 'restore'),
          button('', { class: 'icon-btn danger-text', 'aria-label': t('trash.delete_name', { name: e.name }), 'data-testid': 'trash-delete', onclick: () => purge(e) }, 'trash'))))
        : emptyState('trash', t('trash.empty_title'), t('trash.empty_text')));
    } catch (e) { clear(list, h('p.form-error', { role: 'alert' }, errorText(e))); }
  }

  async function restore(e) {
    try {
      await api(`/api/trash/${encodeURIComponent(e.id)}/restore`, { method: 'POST' });
      announce(t('trash.restored', { name: e.name }), 'success');
      load();
    } catch (err) { announce(errorText(err), 'error'); }
  }

  async function purge(e) {
    if (!(await confirmDialog(t('trash.delete_title'), t('trash.delete_text', { name: e.name }), t('trash.delete'), true))) return;
    try {
      await api(`/api/trash/${encodeURIComponent(e.id)}`, { method: 'DELETE' });
      announce(t('trash.deleted', { name: e.name }), 'success');
      load();
    } catch (err) { announce(errorText(err), 'error'); }
  }

  async function emptyAll() {
    if (!(await confirmDialog(t('trash.empty'), t('trash.empty_confirm'), t('trash.empty'), true))) return;
    try {
      await api('/api/trash', { method: 'DELETE' });
      announce(t('trash.emptied'), 'success');
      load();
    } catch (err) { announce(errorText(err), 'error'); }
  }

  await load();
  return {};
}
