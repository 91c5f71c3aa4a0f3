// The blueprint's question, as a scenario (docs/protocol.md §8.4): beside the topology's native load
// balancer, a proxy load balancer (provider opencontrail: an active/standby haproxy pair) serves the same
// members. Flows open to both; then the active haproxy's compute dies. Native loses only the flows of the
// member on that compute; the proxy loses every flow, and the standby's route (LP 100) takes over.
// `ecmpsim compare` measures the same and more (tunnels, tromboning, load per compute).
import { defineScenario, ScenarioRefused } from '../src/index.ts';

const FLOWS = 2_000;

interface ServiceInstanceView { instances: { compute: string; role: string; localPreference: number }[] }

export default defineScenario({
  name: 'proxy-vs-native',
  description: 'a haproxy load balancer beside the native one: the active haproxy’s compute dies under traffic',
  topology: 'default.json',
  async run(sim) {
    const lb = await sim.loadBalancer({ members: 2 });
    const port = lb.listener.port;
    sim.step(`a proxy load balancer proxy-lb (provider opencontrail) for ${lb.members.map((m) => m.name).join(', ')}`);
    await sim.request('POST', '/api/config/loadbalancer', { name: 'proxy-lb', provider: 'opencontrail', virtualNetwork: lb.network });
    const proxyVip = (await sim.request<{ vipAddress: string }>('GET', '/api/config/loadbalancer/proxy-lb')).vipAddress;
    await sim.request('POST', '/api/config/loadbalancer-listener', { name: 'proxy-listener', loadBalancer: 'proxy-lb', protocol: 'TCP', port });
    await sim.request('POST', '/api/config/loadbalancer-pool', { name: 'proxy-pool', listener: 'proxy-listener', method: 'ROUND_ROBIN' });
    for (const member of lb.members) await sim.addMember('proxy-pool', { address: member.address, port: member.port });
    const si = await sim.request<ServiceInstanceView>('GET', '/api/config/service-instance/proxy-lb');
    const [active, standby] = si.instances;
    // the client must outlive the active haproxy's compute: any non-member workload of the VIP network elsewhere
    const topology = await sim.request<{ computes: { name: string; address: string }[]; workloads: { name: string; compute: string; network: string; address: string }[] }>('GET', '/api/topology');
    const memberAddresses = new Set(lb.members.map((m) => m.address));
    const client = [lb.client, ...topology.workloads.filter((w) => w.network === lb.network && !memberAddresses.has(w.address))]
      .find((w) => w.compute !== active.compute && w.compute !== standby.compute);
    if (client === undefined) throw new ScenarioRefused(`no workload of ${lb.network} outside ${active.compute} and ${standby.compute} (the haproxy pair) to send from`);
    sim.note(`haproxy active on ${active.compute} (LP ${active.localPreference}), standby on ${standby.compute} (LP ${standby.localPreference}); VIP ${proxyVip}`);
    const addresses = Object.fromEntries(topology.computes.map((c) => [c.name, c.address]));
    await sim.eventually(`${client.compute} sends the proxy VIP to the active haproxy only`, () => sim.nextHops(client.compute, proxyVip), (hops) => hops.join() === addresses[active.compute]);
    await sim.expectVipMembers(lb.vip, { [client.compute]: lb.members.length });

    sim.step(`open ${FLOWS} flows to each VIP from ${client.name}`);
    const native = await sim.openFlows({ from: client.name, to: `${lb.vip}:${port}`, count: FLOWS });
    const proxy = await sim.openFlows({ from: client.name, to: `${proxyVip}:${port}`, count: FLOWS });
    sim.check('native: every flow delivered', native.opened.delivered === FLOWS, `${native.opened.delivered}`);
    sim.check('proxy: every flow ends at the active haproxy', proxy.opened.members.length === 1 && proxy.opened.members[0].member === `${active.compute}/proxy-lb-haproxy-active-vip`, JSON.stringify(proxy.opened.members));
    const onFailed = native.opened.members.filter((m) => m.member.startsWith(`${active.compute}/`)).reduce((n, m) => n + m.flows, 0);

    sim.step(`${active.compute} dies`);
    await sim.kill(active.compute);
    const holdMs = (await sim.request<{ holdTimeSeconds: number }>('GET', '/api/topology')).holdTimeSeconds * 1000;
    await sim.eventually('the standby haproxy’s route becomes best within the hold time', () => sim.nextHops(client.compute, proxyVip), (hops) => hops.join() === addresses[standby.compute], { timeoutMs: holdMs });
    const survivors = lb.members.filter((m) => m.compute !== active.compute).length;
    await sim.expectVipMembers(lb.vip, { [client.compute]: survivors });

    const nativeAfter = await native.resend();
    const proxyAfter = await proxy.resend();
    sim.check(`native: only the ${onFailed} flows of ${active.compute}'s member moved`, nativeAfter.moved === onFailed, `${nativeAfter.moved} moved`);
    sim.check('proxy: every flow broke (the standby holds none of the active’s connections)', proxyAfter.moved === FLOWS, `${proxyAfter.moved} moved`);
    sim.check('proxy: new packets are served by the standby', proxyAfter.delivered === FLOWS && proxyAfter.members[0]?.member === `${standby.compute}/proxy-lb-haproxy-standby-vip`, JSON.stringify(proxyAfter.members));
  },
});
