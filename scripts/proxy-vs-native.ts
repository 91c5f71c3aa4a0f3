// The blueprint's question, as a scenario (docs/protocol.md §8.4): beside the native lb1, a proxy load
// balancer (provider opencontrail: an active/standby haproxy pair) serves the same members. Flows open to
// both; then the active haproxy's compute (compute-3, which also hosts web-b) dies. Native loses only the
// flows web-b held; the proxy loses every flow, and the standby's route (LP 100) takes over.
// `ecmpsim compare` measures the same and more (tunnels, tromboning, load per compute).
import { defineScenario } from '../src/scenario/scenario.ts';

const NATIVE_VIP = '30.30.30.100';
const PROXY_VIP = '30.30.30.101';
const FLOWS = 2_000;
const NETWORK = 'default-domain:demo:svc-vn';

interface ServiceInstanceView { instances: { compute: string; role: string; localPreference: number }[] }

export default defineScenario({
  name: 'proxy-vs-native',
  description: 'a haproxy load balancer beside the native one: the active haproxy’s compute dies under traffic',
  topology: 'default.json',
  async run(sim) {
    sim.step('a proxy load balancer proxy-lb (provider opencontrail) for web-a and web-b');
    await sim.request('POST', '/api/config/loadbalancer', { name: 'proxy-lb', provider: 'opencontrail', virtualNetwork: NETWORK, vipAddress: PROXY_VIP });
    await sim.request('POST', '/api/config/loadbalancer-listener', { name: 'proxy-listener', loadBalancer: 'proxy-lb', protocol: 'TCP', port: 80 });
    await sim.request('POST', '/api/config/loadbalancer-pool', { name: 'proxy-pool', listener: 'proxy-listener', method: 'ROUND_ROBIN' });
    for (const address of ['30.30.30.10', '30.30.30.11']) await sim.addMember('proxy-pool', { address, port: 8080 });
    const si = await sim.request<ServiceInstanceView>('GET', '/api/config/service-instance/proxy-lb');
    const [active, standby] = si.instances;
    sim.note(`haproxy active on ${active.compute} (LP ${active.localPreference}), standby on ${standby.compute} (LP ${standby.localPreference})`);
    const addresses = Object.fromEntries((await sim.request<{ computes: { name: string; address: string }[] }>('GET', '/api/topology')).computes.map((c) => [c.name, c.address]));
    await sim.eventually('compute-1 sends the proxy VIP to the active haproxy only', () => sim.nextHops('compute-1', PROXY_VIP), (hops) => hops.join() === addresses[active.compute]);
    await sim.expectVipMembers(NATIVE_VIP, { 'compute-1': 2 });

    sim.step(`open ${FLOWS} flows to each VIP from client`);
    const native = await sim.openFlows({ from: 'client', to: `${NATIVE_VIP}:80`, count: FLOWS });
    const proxy = await sim.openFlows({ from: 'client', to: `${PROXY_VIP}:80`, count: FLOWS });
    sim.check('native: every flow delivered', native.opened.delivered === FLOWS, `${native.opened.delivered}`);
    sim.check('proxy: every flow ends at the active haproxy', proxy.opened.members.length === 1 && proxy.opened.members[0].member === `${active.compute}/proxy-lb-haproxy-active-vip`, JSON.stringify(proxy.opened.members));
    const onFailed = native.opened.members.filter((m) => m.member.startsWith(`${active.compute}/`)).reduce((n, m) => n + m.flows, 0);

    sim.step(`${active.compute} dies`);
    await sim.kill(active.compute);
    const holdMs = (await sim.request<{ holdTimeSeconds: number }>('GET', '/api/topology')).holdTimeSeconds * 1000;
    await sim.eventually('the standby haproxy’s route becomes best within the hold time', () => sim.nextHops('compute-1', PROXY_VIP), (hops) => hops.join() === addresses[standby.compute], { timeoutMs: holdMs });
    await sim.expectVipMembers(NATIVE_VIP, { 'compute-1': 1 });

    const nativeAfter = await native.resend();
    const proxyAfter = await proxy.resend();
    sim.check(`native: only the ${onFailed} flows of ${active.compute}'s member moved`, nativeAfter.moved === onFailed, `${nativeAfter.moved} moved`);
    sim.check('proxy: every flow broke (the standby holds none of the active’s connections)', proxyAfter.moved === FLOWS, `${proxyAfter.moved} moved`);
    sim.check('proxy: new packets are served by the standby', proxyAfter.delivered === FLOWS && proxyAfter.members[0]?.member === `${standby.compute}/proxy-lb-haproxy-standby-vip`, JSON.stringify(proxyAfter.members));
  },
});
