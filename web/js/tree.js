// The stream browser (collections as a tree, search by name/tag/collection) and the metadata panel.

import { getJson, qs } from './api.js';
import { formatIso, MAX_TIME, MIN_TIME } from './time.js';

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

/** Load streams (optionally matching `q`) and render them grouped by collection path. */
export async function renderTree(container, q, isPlotted, onToggle) {
  const { streams } = await getJson(`/api/streams?${qs({ q: q || undefined, limit: 5000 })}`);
  container.replaceChildren();
  if (streams.length === 0) {
    container.append(el('p', { class: 'muted' }, q ? 'No stream matches.' : 'No streams yet.'));
    return streams;
  }
  const root = { children: new Map(), streams: [] };
  for (const s of streams) {
    let node = root;
    for (const part of s.collection.split('/').filter((p) => p !== '')) {
      if (!node.children.has(part)) node.children.set(part, { children: new Map(), streams: [] });
      node = node.children.get(part);
    }
    node.streams.push(s);
  }
  const build = (node, parent) => {
    for (const [name, child] of node.children) {
      const d = el('details', { open: '' }, el('summary', {}, name));
      build(child, d);
      parent.append(d);
    }
    for (const s of node.streams) {
      const box = el('input', { type: 'checkbox', 'aria-label': `plot ${s.name}` });
      box.checked = isPlotted(s.uuid);
      const row = el(
        'label',
        { class: 'stream', 'data-uuid': s.uuid, title: `${s.collection}/${s.name}\n${s.uuid}`, role: 'treeitem' },
        box,
        el('span', {}, s.name || s.uuid.slice(0, 8)),
        el('span', { class: 'unit' }, s.unit),
      );
      box.addEventListener('change', () => onToggle(s, box.checked));
      parent.append(row);
    }
  };
  build(root, container);
  return streams;
}

function dl(entries) {
  const d = el('dl');
  for (const [k, v] of entries) d.append(el('dt', {}, k), el('dd', {}, v));
  return d;
}

/** Show one stream's metadata: tags, annotations, versions, extent and count. */
export async function renderMeta(container, uuid) {
  if (!uuid) {
    container.replaceChildren(el('p', { class: 'muted' }, 'Click a stream in the legend to see its metadata.'));
    return;
  }
  const s = await getJson(`/api/streams/${uuid}`);
  const first = await getJson(`/api/streams/${uuid}/nearest?${qs({ time: MIN_TIME })}`).catch(() => null);
  const last = await getJson(`/api/streams/${uuid}/nearest?${qs({ time: MAX_TIME - 1n, backward: true })}`).catch(
    () => null,
  );
  const { count } = await getJson(`/api/streams/${uuid}/count`);
  container.replaceChildren(
    el('h2', {}, s.name || '(no name)'),
    el('div', { class: 'coll' }, s.collection),
    dl([
      ['uuid', s.uuid],
      ['unit', s.unit || '—'],
      ['points', count.toLocaleString('en')],
      ['first', first ? formatIso(BigInt(first.time), 9) : '—'],
      ['last', last ? formatIso(BigInt(last.time), 9) : '—'],
      ['version', String(s.version)],
      ['property version', String(s.propertyVersion)],
    ]),
    el('h3', {}, 'Tags'),
    dl(Object.entries(s.tags)),
    el('h3', {}, 'Annotations'),
    Object.keys(s.annotations).length > 0 ? dl(Object.entries(s.annotations)) : el('p', { class: 'muted' }, 'none'),
  );
}
