/** A tiny DOM builder: no framework, text set through textContent only (event summaries are never parsed as HTML). */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'object' ? child : String(child));
  }
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from index.html`);
  return node as T;
}

/** A table with a caption, column headers (scope="col") and rows of cells. */
export function table(caption: string, headers: string[], rows: Child[][], attrs: Record<string, string> = {}): HTMLTableElement {
  return h('table', attrs,
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, 'none'))
      : rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c))))));
}

/** A two-column key/value table (row headers scope="row"). */
export function keyValueTable(caption: string, entries: [string, Child][], attrs: Record<string, string> = {}): HTMLTableElement {
  return h('table', { class: 'kv', ...attrs },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'name'), h('th', { scope: 'col' }, 'value'))),
    h('tbody', {}, entries.length === 0
      ? h('tr', {}, h('td', { colspan: 2, class: 'empty' }, 'none'))
      : entries.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)))));
}
