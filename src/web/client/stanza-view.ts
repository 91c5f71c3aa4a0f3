// The XMPP stanza stream with the CLI's filters (node, peer, direction, vrf, prefix): a server-sent event
// stream per filter, newest first; a click shows the stanza's XML in the details panel.
import type { StanzaLine } from '../view-model.ts';
import { h } from './dom.ts';

const KEPT = 300;

export class StanzaView {
  private source: EventSource | null = null;
  private count = 0;

  constructor(
    private readonly form: HTMLFormElement,
    private readonly list: HTMLElement,
    private readonly counter: HTMLElement,
    private readonly show: (s: StanzaLine) => void,
  ) {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.open();
    });
    this.open();
  }

  /** Sets the filter fields (the graph sets `node` when a node is clicked) and reopens the stream. */
  filter(values: Record<string, string>): void {
    for (const [k, v] of Object.entries(values)) {
      const field = this.form.elements.namedItem(k);
      if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) field.value = v;
    }
    this.open();
  }

  private open(): void {
    this.source?.close();
    this.list.replaceChildren();
    this.count = 0;
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(this.form)) if (typeof v === 'string' && v.trim() !== '') q.set(k, v.trim());
    this.counter.textContent = q.size > 0 ? `filter: ${q.toString().replace(/&/g, ' ')}` : 'all stanzas';
    this.source = new EventSource(`/api/events/stanzas?${q}`);
    this.source.addEventListener('stanza', (e) => this.add(JSON.parse((e as MessageEvent<string>).data) as StanzaLine));
  }

  private add(s: StanzaLine): void {
    this.count++;
    const time = new Date(s.time).toLocaleTimeString([], { hour12: false });
    const row = h(
      'div',
      { class: `stanza ${s.direction}`, 'data-node': s.node },
      h('time', {}, time),
      h('span', { class: 'node' }, s.node),
      h('span', { class: 'dir' }, s.direction === 'in' ? '⇐' : '⇒'),
      h('span', { class: 'peer' }, s.peer),
      h('span', { class: 'summary' }, s.summary),
      s.vrf ? h('span', { class: 'muted' }, ` ${s.vrf}`) : null,
    );
    row.addEventListener('click', () => this.show(s));
    this.list.prepend(row);
    while (this.list.children.length > KEPT) this.list.lastElementChild?.remove();
  }

  shown(): number {
    return this.count;
  }
}
