// The details panel: a compute's FIB (composites with slots) and flow table, a control node's VIP routes
// with every path, a member's path through `trace` (a source port that hashes to that member), a
// session's state, a stanza's XML. Reads the JSON API directly, as the CLI does.
import type { LiveView, MemberView, StanzaLine, VipView } from '../view-model.ts';
import { apiJson, h, table } from './dom.ts';

interface FibJson {
  vrf: string;
  routes: { prefix: string; kind: string; slots: { index: number; empty: boolean; address?: string; label?: number; active?: boolean; flows?: number; interface?: string }[] }[];
}
interface FlowJson {
  direction: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  proto: number;
  slot: number | null;
  member: { address: string; label: number } | null;
  nat: { kind: string; ip: string; port: number } | null;
  packets: number;
}
interface TraceJson {
  steps: { node: string; step: string; detail: string }[];
}
interface RouteJson {
  table: string;
  prefix: string;
  paths?: { peer: string; rd: string; label: number; nextHop: string; best: boolean; multipath: boolean }[];
}

/** Source ports tried to find a flow that the composite hashes to the clicked member. */
const TRACE_PORTS = 128;

export class DetailsView {
  private token = 0;

  constructor(
    private readonly title: HTMLElement,
    private readonly body: HTMLElement,
  ) {}

  private begin(title: string): number {
    this.title.textContent = title;
    this.body.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
    return ++this.token;
  }

  private done(token: number, ...content: (Node | string)[]): void {
    if (token === this.token) this.body.replaceChildren(...content);
  }

  private fail(token: number, e: unknown): void {
    this.done(token, h('p', { class: 'error' }, (e as Error).message));
  }

  async compute(name: string, view: LiveView | null): Promise<void> {
    const computeAt = new Map((view?.nodes ?? []).map((n) => [n.address, n.name]));
    const token = this.begin(`Compute ${name}: FIB and flows`);
    try {
      const [fib, flows] = await Promise.all([apiJson<FibJson[]>(`/api/nodes/${encodeURIComponent(name)}/fib`), apiJson<FlowJson[]>(`/api/nodes/${encodeURIComponent(name)}/flows?limit=60`)]);
      const fibRows = fib.flatMap((v) =>
        v.routes.map((r) => [
          r.prefix,
          r.kind,
          r.slots.map((s) => (s.empty ? `[${s.index}] hole` : `[${s.index}] ${s.interface ?? computeAt.get(s.address ?? '') ?? s.address} L${s.label}${s.active === false ? ' (inactive)' : ''} · ${s.flows ?? 0} fl`)).join('  '),
          v.vrf,
        ]),
      );
      const flowRows = flows.map((f) => [
        f.direction,
        `${f.src}:${f.sport} → ${f.dst}:${f.dport}`,
        f.slot === null ? '' : String(f.slot),
        f.member ? `${f.member.address} L${f.member.label}` : '',
        f.nat ? `${f.nat.kind} ${f.nat.ip}:${f.nat.port}` : '',
        String(f.packets),
      ]);
      this.done(
        token,
        h('h3', {}, 'FIB'),
        table(['prefix', 'next hop', 'slots', 'vrf'], fibRows),
        h('h3', {}, `Flows (first ${flows.length})`),
        flows.length > 0 ? table(['dir', '5-tuple', 'slot', 'member', 'nat', 'pkts'], flowRows) : h('p', { class: 'muted' }, 'no flows'),
      );
    } catch (e) {
      this.fail(token, e);
    }
  }

  async control(name: string, view: LiveView | null): Promise<void> {
    const token = this.begin(`Control node ${name}: VIP routes`);
    try {
      const sections: Node[] = [];
      for (const vip of view?.vips ?? []) {
        const routes = await apiJson<RouteJson[]>(`/api/nodes/${encodeURIComponent(name)}/routes?prefix=${encodeURIComponent(`${vip.vip}/32`)}`);
        const rows = routes.flatMap((r) => (r.paths ?? []).map((p) => [r.table, p.peer, p.nextHop, String(p.label), p.rd, p.best ? 'best' : p.multipath ? 'ecmp' : '']));
        sections.push(h('h3', {}, `${vip.loadBalancer} ${vip.vip}/32`), rows.length > 0 ? table(['table', 'peer', 'next hop', 'label', 'RD', ''], rows) : h('p', { class: 'muted' }, 'no paths'));
      }
      this.done(token, ...(sections.length > 0 ? sections : [h('p', { class: 'muted' }, 'no VIPs')]));
    } catch (e) {
      this.fail(token, e);
    }
  }

  /** A sender for the trace: a workload on the VIP's network that is not one of its members. */
  private sender(vip: VipView, view: LiveView | null): string | null {
    const workloads = view?.workloads ?? [];
    const members = new Set(vip.members.map((m) => m.workload));
    const pick = workloads.find((w) => w.network === vip.network && !members.has(w.name)) ?? workloads.find((w) => !members.has(w.name)) ?? workloads[0];
    return pick?.name ?? null;
  }

  async memberPath(vip: VipView, member: MemberView, view: LiveView | null): Promise<void> {
    const token = this.begin(`Path to member ${member.workload ?? member.address} of ${vip.loadBalancer}`);
    const from = this.sender(vip, view);
    const port = vip.ports[0];
    if (!from || port === undefined) {
      this.done(token, h('p', { class: 'muted' }, 'no workload to send from, or the VIP has no listener'));
      return;
    }
    try {
      let last: TraceJson | null = null;
      for (let i = 0; i < TRACE_PORTS; i++) {
        const sport = 40000 + i;
        const trace = await apiJson<TraceJson>('/api/trace', { method: 'POST', body: { from, to: `${vip.vip}:${port}`, sport } });
        last = trace;
        const lands = trace.steps.some((s) => s.step === 'deliver' && member.workload !== null && s.detail.startsWith(`to ${member.workload}:`));
        if (lands) {
          this.done(
            token,
            h('p', {}, `${from} → ${vip.vip}:${port} from source port ${sport} hashes to ${member.workload} (${member.address}:${member.port}):`),
            table(['node', 'step', 'detail'], trace.steps.map((s) => [s.node, s.step, s.detail]), 'grid trace'),
          );
          return;
        }
      }
      this.done(
        token,
        h('p', { class: 'error' }, `no source port of ${TRACE_PORTS} tried lands on ${member.workload ?? member.address}: is it in the composite? The last trace:`),
        table(['node', 'step', 'detail'], (last?.steps ?? []).map((s) => [s.node, s.step, s.detail]), 'grid trace'),
      );
    } catch (e) {
      this.fail(token, e);
    }
  }

  text(title: string, lines: string[]): void {
    const token = this.begin(title);
    this.done(token, ...lines.map((l) => h('p', {}, l)));
  }

  stanza(s: StanzaLine): void {
    const token = this.begin(`Stanza #${s.seq} ${s.node} ${s.direction === 'in' ? '⇐' : '⇒'} ${s.peer}`);
    this.done(token, h('p', {}, s.summary), h('pre', { class: 'xml' }, prettyXml(s.raw)));
  }
}

/** Indents XML for reading (one element per line); an element's text stays on its line. */
function prettyXml(raw: string): string {
  const out: string[] = [];
  let depth = 0;
  let textOpen = false;
  for (const token of raw.replace(/>\s*</g, '><').split(/(?=<)|(?<=>)/)) {
    if (token.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      if (textOpen) out[out.length - 1] += token;
      else out.push(`${'  '.repeat(depth)}${token}`);
      textOpen = false;
    } else if (token.startsWith('<')) {
      out.push(`${'  '.repeat(depth)}${token}`);
      if (!token.endsWith('/>') && !token.startsWith('<?') && !token.startsWith('<!')) depth++;
      textOpen = false;
    } else if (token.trim() !== '' && out.length > 0) {
      out[out.length - 1] += token;
      textOpen = true;
    }
  }
  return out.join('\n');
}
