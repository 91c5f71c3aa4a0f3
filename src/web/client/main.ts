// The web view's script: opens the live event stream (`/api/events`), keeps the graph, the VIP panels,
// the flow chart and the timeline in step with it, and wires clicks to the details panel. Exposes a few
// read-only probes on `window.ecmpsimView` for the browser tests.
import type { LiveView, MemberView, TimelineEntry, VipView } from '../view-model.ts';
import { DetailsView } from './details-view.ts';
import { byId, h } from './dom.ts';
import { FlowChart } from './flow-chart.ts';
import { GraphView } from './graph-view.ts';
import { StanzaView } from './stanza-view.ts';
import { TimelineView } from './timeline-view.ts';
import { renderComposites, renderMembers } from './vip-view.ts';

let view: LiveView | null = null;
let selectedVip = '';
let views = 0;

const details = new DetailsView(byId('details-title'), byId('details'));
const timeline = new TimelineView(byId<HTMLOListElement>('timeline'));
const chart = new FlowChart(byId<HTMLCanvasElement>('flow-chart'));
const vipSelect = byId<HTMLSelectElement>('vip-select');

const showMember = (vip: VipView, member: MemberView): void => {
  void details.memberPath(vip, member, view);
};

const vipTaps = { member: showMember, compute: (name: string) => void details.compute(name, view) };

const graph = new GraphView(byId('graph'), {
  node(kind, name) {
    if (kind === 'compute') void details.compute(name, view);
    else if (kind === 'control-node') void details.control(name, view);
    else if (kind === 'workload') {
      for (const vip of view?.vips ?? []) {
        const member = vip.members.find((m) => m.workload === name);
        if (member) return showMember(vip, member);
      }
      const w = view?.workloads.find((x) => x.name === name);
      details.text(`Workload ${name}`, [w ? `${w.address} on ${w.compute}, network ${w.network}` : name, 'not a member of any pool']);
    } else details.text(`${kind} ${name}`, []);
  },
  edge(kind, data) {
    if (kind === 'member') {
      const vip = view?.vips.find((v) => v.loadBalancer === data.loadBalancer);
      const member = vip?.members.find((m) => m.name === data.member);
      if (vip && member) return showMember(vip, member);
    }
    if (kind === 'xmpp' || kind === 'bgp') {
      const s = view?.sessions.find((x) => x.edgeId === data.id);
      details.text(`${kind.toUpperCase()} session`, s ? [`${s.a} ↔ ${s.b}: ${s.state}`, s.detail] : [String(data.id)]);
    }
  },
});

const attachBox = byId<HTMLInputElement>('show-attach');
attachBox.addEventListener('change', () => {
  graph.attach = attachBox.checked;
  graph.showAttachEdges(attachBox.checked);
});
byId('fit').addEventListener('click', () => graph.fit());

const stanzas = new StanzaView(byId<HTMLFormElement>('stanza-filter'), byId('stanzas'), byId('stanza-count'), (s) => details.stanza(s));

vipSelect.addEventListener('change', () => {
  selectedVip = vipSelect.value;
  if (view) renderVips(view);
});

function renderVips(v: LiveView): void {
  const names = v.vips.map((x) => x.loadBalancer);
  if (vipSelect.options.length !== names.length || [...vipSelect.options].some((o, i) => o.value !== names[i])) {
    vipSelect.replaceChildren(...v.vips.map((x) => h('option', { value: x.loadBalancer }, `${x.loadBalancer} ${x.vip}`)));
  }
  if (!names.includes(selectedVip)) selectedVip = names[0] ?? '';
  vipSelect.value = selectedVip;
  const vip = v.vips.find((x) => x.loadBalancer === selectedVip);
  if (!vip) {
    byId('members').replaceChildren(h('p', { class: 'muted' }, 'no load balancers'));
    byId('composites').replaceChildren();
    chart.update([]);
    return;
  }
  byId('members').replaceChildren(renderMembers(vip, vipTaps));
  byId('composites').replaceChildren(renderComposites(vip, vipTaps));
  // A bar per member: the box grows with the pool so that bars stay readable.
  byId('chart-box').style.height = `${Math.max(120, 40 + 22 * vip.shares.length)}px`;
  chart.update(vip.shares);
  const total = vip.shares.reduce((n, s) => n + s.flows, 0);
  byId('flow-total').textContent = `${total} flows`;
}

function onView(v: LiveView): void {
  if (view === null) {
    graph.attach = v.workloads.length <= GraphView.ATTACH_EDGES_UP_TO;
    attachBox.checked = graph.attach;
  }
  view = v;
  views++;
  byId('sim-name').textContent = v.simulation;
  byId('sim-mode').textContent = v.mode;
  byId('clock').textContent = new Date(v.time).toLocaleTimeString([], { hour12: false });
  graph.update(v.elements);
  renderVips(v);
}

function connect(): void {
  const conn = byId('conn');
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => {
    conn.textContent = 'live';
    conn.className = 'conn up';
  });
  events.addEventListener('error', () => {
    conn.textContent = 'reconnecting…';
    conn.className = 'conn down';
  });
  events.addEventListener('view', (e) => onView(JSON.parse((e as MessageEvent<string>).data) as LiveView));
  events.addEventListener('timeline', (e) => timeline.add(JSON.parse((e as MessageEvent<string>).data) as TimelineEntry));
  events.addEventListener('problem', (e) => {
    conn.textContent = `problem: ${(JSON.parse((e as MessageEvent<string>).data) as { message: string }).message}`;
    conn.className = 'conn down';
  });
}

connect();

/** Read-only probes for the browser tests (and for a curious console). */
const probes = {
  views: () => views,
  nodeIds: () => graph.nodeIds(),
  edgeClasses: (id: string) => graph.edgeClasses(id),
  memberEdges: () => graph.memberEdgeIds(),
  chartTotal: () => chart.total(),
  timeline: () => timeline.texts(),
  stanzasShown: () => stanzas.shown(),
  view: () => view,
};
(window as unknown as { ecmpsimView: typeof probes }).ecmpsimView = probes;
