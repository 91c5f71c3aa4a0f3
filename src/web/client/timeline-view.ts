// The timeline of scale events (members added/removed, nodes killed/restarted, sessions up/down), newest first.
import type { TimelineEntry } from '../view-model.ts';
import { h } from './dom.ts';

const KEPT = 300;

export class TimelineView {
  private readonly seen = new Set<number>();

  constructor(private readonly list: HTMLOListElement) {}

  add(e: TimelineEntry): void {
    if (this.seen.has(e.seq)) return;
    this.seen.add(e.seq);
    const time = new Date(e.time).toLocaleTimeString([], { hour12: false });
    this.list.prepend(h('li', { class: `tl ${e.kind}`, 'data-kind': e.kind }, h('time', {}, time), h('span', { class: 'kind' }, e.kind.replace('-', ' ')), ` ${e.text}`));
    while (this.list.children.length > KEPT) this.list.lastElementChild?.remove();
  }

  texts(): string[] {
    return [...this.list.querySelectorAll('li')].map((li) => li.textContent ?? '');
  }
}
