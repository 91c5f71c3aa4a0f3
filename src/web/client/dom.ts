// Small DOM helpers for the page: build elements with text content (never HTML strings, so names and
// stanza text are shown as they are) and fetch JSON from the simulation API.

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

export async function apiJson<T>(path: string, init?: { method: string; body: unknown }): Promise<T> {
  const res = await fetch(path, init ? { method: init.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) } : undefined);
  const body = (await res.json()) as T & { error?: string | { message?: string } };
  // The API's errors are { error: { code, message, path } } (docs/api.md).
  if (!res.ok) throw new Error((typeof body.error === 'string' ? body.error : body.error?.message) ?? `HTTP ${res.status}`);
  return body;
}

export function table(headers: string[], rows: Child[][], className = 'grid'): HTMLTableElement {
  return h('table', { class: className }, h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', {}, x)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}
