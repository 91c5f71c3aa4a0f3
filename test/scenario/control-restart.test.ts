// Issue #16 fault 1: a control-node restart must not shrink any compute's ECMP composite nor move a flow.
// One OS process per node (`up --processes`), 4 members on 6 computes, flows open; control-1 is killed,
// stays away longer than the agents' first back-off steps (they come back at different times,
// docs/protocol.md §2.4) and restarts. The restarting control node defers each agent's End-of-RIB until
// the agents it expects have re-published and sent theirs (docs/protocol.md §4.3), so no agent sweeps a
// member that is still alive. Sampled every ~200 ms on every compute while it happens.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { loadTopologyFile } from '../../src/topology/loader.ts';
import { Simulation } from '../../src/topology/launcher.ts';
import { ScenarioContext } from '../../src/scenario/scenario.ts';

const VIP = '30.30.30.100';
const MEMBERS = 4;
const FLOWS = 2_000;

interface RestartOutcome {
  /** compute → fewest active VIP members seen in any sample */
  fewestMembers: Record<string, number>;
  samples: number;
  resends: number;
  moved: number;
  undelivered: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function restartUnderTraffic(fixture: string, outageMs: number): Promise<RestartOutcome> {
  const file = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const loaded = await loadTopologyFile(file);
  if (!loaded.ok) throw new Error(`${fixture}: ${JSON.stringify(loaded.errors)}`);
  // A short quiet time is the harshest case: only the deferral may hold End-of-RIB back.
  const sim = await Simulation.start(loaded.topology, { mode: 'processes', topologyFile: file, endOfRibQuietMs: 500 });
  try {
    const ctx = new ScenarioContext(sim.api);
    const computes = await ctx.computes();
    await ctx.expectVipMembers(VIP, MEMBERS, { timeoutMs: 30_000 });
    const controlNodes = loaded.topology.controlNodes.map((c) => c.name);
    for (const control of controlNodes) {
      await ctx.eventually(
        `${control} has sent End-of-RIB to every agent`,
        () => ctx.request<{ agents: { endOfRibSent: boolean }[] }>('GET', `/api/nodes/${control}/status`),
        (s) => s.agents.length === computes.length && s.agents.every((a) => a.endOfRibSent),
        { timeoutMs: 30_000 },
      );
    }
    const flows = await ctx.openFlows({ from: 'client', to: `${VIP}:80`, count: FLOWS });
    expect(flows.opened.members.length).to.equal(MEMBERS);

    const outcome: RestartOutcome = { fewestMembers: Object.fromEntries(computes.map((c) => [c, MEMBERS])), samples: 0, resends: 0, moved: 0, undelivered: 0 };
    let sampling = true;
    const sampler = (async () => {
      let round = 0;
      while (sampling) {
        for (const compute of computes) {
          const active = (await ctx.slots(compute, VIP)).filter((s) => !s.empty && s.active !== false).length;
          outcome.fewestMembers[compute] = Math.min(outcome.fewestMembers[compute], active);
        }
        outcome.samples++;
        if (round++ % 5 === 0) {
          const report = await flows.resend();
          outcome.resends++;
          outcome.moved += report.moved ?? 0;
          outcome.undelivered += FLOWS - report.delivered;
        }
        await sleep(200);
      }
    })();

    await ctx.kill('control-1');
    await sleep(outageMs);
    await ctx.restart('control-1');
    await ctx.eventually(
      'control-1 has every agent back and has sent each its End-of-RIB',
      () => ctx.request<{ agents: { endOfRibSent: boolean }[] }>('GET', '/api/nodes/control-1/status'),
      (s) => s.agents.length === computes.length && s.agents.every((a) => a.endOfRibSent),
      { timeoutMs: 60_000 },
    );
    for (const compute of computes) {
      await ctx.eventually(
        `${compute} has swept its stale routes`,
        () => ctx.request<{ sessions: { stale: number }[] }>('GET', `/api/nodes/${compute}/status`),
        (s) => s.sessions.every((x) => x.stale === 0),
        { timeoutMs: 30_000 },
      );
    }
    await sleep(1_000);
    sampling = false;
    await sampler;
    const last = await flows.resend();
    outcome.resends++;
    outcome.moved += last.moved ?? 0;
    outcome.undelivered += FLOWS - last.delivered;
    return outcome;
  } finally {
    await sim.stop();
  }
}

function expectNothingMoved(outcome: RestartOutcome): void {
  expect(outcome.samples, 'sampled while the control node was away and back').to.be.greaterThan(20);
  expect(outcome.fewestMembers, 'fewest active VIP members seen per compute').to.deep.equal(
    Object.fromEntries(Object.keys(outcome.fewestMembers).map((c) => [c, MEMBERS])),
  );
  expect({ moved: outcome.moved, undelivered: outcome.undelivered }, `over ${outcome.resends} resends of ${FLOWS} flows`).to.deep.equal({ moved: 0, undelivered: 0 });
}

describe('control-node restart under traffic (one process per node)', function () {
  this.timeout(180_000);

  it('one control node, 10 s outage: no composite shrinks on any compute, no flow moves', async () => {
    expectNothingMoved(await restartUnderTraffic('restart-one-control.json', 10_000));
  });

  it('one control node, 5.5 s outage (agents return at different back-off steps): nothing shrinks or moves', async () => {
    expectNothingMoved(await restartUnderTraffic('restart-one-control.json', 5_500));
  });

  it('one control node with graceful restart and the XMPP helper on, 10 s outage: nothing shrinks or moves', async () => {
    expectNothingMoved(await restartUnderTraffic('restart-one-control-gr.json', 10_000));
  });

  it('two control nodes, control-1 away 10 s: nothing shrinks or moves', async () => {
    expectNothingMoved(await restartUnderTraffic('restart-two-control.json', 10_000));
  });
});
