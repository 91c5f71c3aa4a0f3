// What seed 002's scenarios (avi-scaleout.ts, north-south.ts) need of a topology: its names (the service
// engines, the shared VIP vs2-vip, the gateway gw-1, a client) and where those run. Names are the seed's;
// places come from the topology the scenario runs on, so a moved copy of north-south.json works too.
import { ScenarioRefused, type ScenarioContext } from '../../src/index.ts';

export const SERVICE_ENGINES = ['avi-se-czpey', 'avi-se-pnjbb', 'avi-se-third'] as const;

export interface Seed002Places {
  /** compute name → its router address */
  addressOf(compute: string): string;
  /** the compute a workload (an SE or the client) runs on */
  computeOf(workload: string): string;
}

/** Refuses (ScenarioRefused) a topology without seed 002's objects; otherwise where they run. */
export async function seed002Places(sim: ScenarioContext): Promise<Seed002Places> {
  const topology = await sim.topology();
  const missing = [...SERVICE_ENGINES, 'client'].filter((w) => !topology.workloads.some((x) => x.name === w));
  if (missing.length > 0 || !(topology.gateways ?? []).some((g) => g.name === 'gw-1') || !(topology.sharedVips ?? []).some((v) => v.name === 'vs2-vip')) {
    throw new ScenarioRefused(`topology ${topology.name} lacks seed 002's service engines, shared VIP vs2-vip or gateway gw-1 (see topologies/north-south.json)`);
  }
  const addresses = new Map(topology.computes.map((c) => [c.name, c.address]));
  return {
    addressOf: (compute) => addresses.get(compute) ?? compute,
    computeOf: (workload) => topology.workloads.find((w) => w.name === workload)!.compute,
  };
}
