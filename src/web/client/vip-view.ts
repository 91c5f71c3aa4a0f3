// Per VIP: its members (admin state, health, compute) and its ECMP composite on every compute — slots in
// order, holes where a member left, labels, flow counts — as the compute's FIB holds them.
import type { CompositeView, MemberView, VipView } from '../view-model.ts';
import { h } from './dom.ts';

export interface VipTaps {
  member(vip: VipView, member: MemberView): void;
  compute(name: string): void;
}

function memberState(m: MemberView): { text: string; cls: string } {
  if (!m.adminState) return { text: 'admin down', cls: 'admin-down' };
  if (m.healthy === false) return { text: 'unhealthy', cls: 'unhealthy' };
  if (m.healthy === null) return { text: 'unknown', cls: 'unknown' };
  return { text: 'healthy', cls: 'healthy' };
}

export function renderMembers(vip: VipView, taps: VipTaps): HTMLElement {
  const list = h('ul', { class: 'members', 'data-vip': vip.vip });
  for (const m of vip.members) {
    const s = memberState(m);
    const item = h(
      'li',
      { class: `member ${s.cls}`, 'data-member': m.name, title: 'show the path to this member (trace)' },
      h('b', {}, m.workload ?? m.address),
      ` ${m.address}:${m.port}`,
      m.compute ? h('span', { class: 'muted' }, ` on ${m.compute}`) : null,
      h('span', { class: `chip ${s.cls}` }, s.text),
    );
    item.addEventListener('click', () => taps.member(vip, m));
    list.append(item);
  }
  if (vip.members.length === 0) list.append(h('li', { class: 'muted' }, 'no members'));
  const ports = vip.ports.length > 0 ? ` ports ${vip.ports.join(', ')}` : '';
  return h('div', {}, h('p', { class: 'vip-line' }, h('b', {}, `${vip.loadBalancer}`), ` VIP ${vip.vip}${ports} on ${vip.network}`), list);
}

/** What makes two computes' composites the same picture: slots in order with their member and label. */
function signature(c: CompositeView): string {
  return JSON.stringify([c.alive, c.kind, c.slots.map((s) => [s.index, s.empty, s.compute, s.workload, s.label, s.active, s.flows])]);
}

/** One row per distinct composite: computes that hold the same slots share a row (16 computes, 2 rows). */
function compositeRow(vip: VipView, group: CompositeView[], taps: VipTaps): HTMLElement {
  const c = group[0];
  const slots = h('div', { class: 'slots' });
  if (!c.alive) slots.append(h('span', { class: 'chip down' }, 'compute down'));
  else if (c.slots.length === 0) slots.append(h('span', { class: 'muted' }, 'no route to the VIP'));
  for (const s of c.slots) {
    if (s.empty) {
      slots.append(h('span', { class: 'slot hole', title: 'a hole: the member that held this slot left; survivors keep their index' }, h('small', {}, `[${s.index}]`), ' hole'));
      continue;
    }
    const member = vip.members.find((m) => m.workload === s.workload && m.compute === s.compute);
    const health = member ? memberState(member).cls : 'unknown';
    const slot = h(
      'span',
      { class: `slot ${s.active ? '' : 'inactive'} ${health}`.trim(), title: `${s.compute ?? s.address ?? ''} label ${s.label ?? '?'}${s.local ? ' (local)' : ''}`, 'data-slot': String(s.index) },
      h('small', {}, `[${s.index}]`),
      ` ${s.workload ?? s.address ?? '?'}`,
      h('small', { class: 'label' }, ` L${s.label ?? '?'}`),
      s.flows > 0 ? h('small', { class: 'flows' }, ` ${s.flows} fl`) : null,
    );
    if (member) slot.addEventListener('click', () => taps.member(vip, member));
    slots.append(slot);
  }
  const names = h('div', { class: 'compute-names' });
  for (const g of group) {
    const link = h('a', { href: '#', class: 'compute-link', 'data-compute': g.compute }, g.compute);
    link.addEventListener('click', (e) => {
      e.preventDefault();
      taps.compute(g.compute);
    });
    names.append(link);
  }
  return h('tr', { class: c.alive ? '' : 'dead', 'data-computes': group.map((g) => g.compute).join(' ') }, h('td', {}, names), h('td', { class: 'muted' }, c.kind ?? '—'), h('td', {}, slots));
}

export function renderComposites(vip: VipView, taps: VipTaps): HTMLElement {
  const groups = new Map<string, CompositeView[]>();
  for (const c of vip.composites) {
    const key = signature(c);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return h('table', { class: 'composites' }, h('tbody', {}, ...[...groups.values()].map((g) => compositeRow(vip, g, taps))));
}
