import { expect } from 'chai';
import { validateTopology } from '../../src/topology/loader.ts';
import { capacityProblem, estimateCapacity, openFileLimit } from '../../src/topology/capacity.ts';
import type { Topology } from '../../src/topology/topology.ts';
import { scaleTopology } from '../../scripts/bench/scale/scale-topology.ts';

function topology(computes: number, members = 4): Topology {
  const checked = validateTopology(scaleTopology({ computes, members }));
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.topology;
}

describe('topology/capacity: refuse before starting what cannot fit', () => {
  it('counts each compute\'s FIB routes (every workload of its networks, plus the VIP) and two descriptors per session in-process', () => {
    const t = topology(10);
    const e = estimateCapacity(t, 'in-process');
    expect(e.routes).to.equal(10 * 11);
    expect(e.fds).to.equal(64 + 2 * 10);
    expect(estimateCapacity(t, 'processes').memoryBytes).to.be.greaterThan(e.memoryBytes);
  });

  it('names the open-file limit and the figure to raise it to', () => {
    const why = capacityProblem(topology(600), 'in-process', { openFiles: 1024, memoryBytes: 64 * 2 ** 30 });
    expect(why).to.match(/^scale-600: 600 computes need about 1,264 open files in this process, but the limit \(ulimit -n\) is 1,024; raise it \(ulimit -n 2048\)/);
  });

  it('names the memory the topology needs and what is available; suggests in-process for --processes', () => {
    const t = topology(300);
    const why = capacityProblem(t, 'processes', { openFiles: 65536, memoryBytes: 2 * 2 ** 30 });
    expect(why).to.match(/^scale-300: 300 computes with 90,300 FIB routes need about [\d,]+ MiB as 301 processes, but only 2,048 MiB is available; in-process mode needs far less/);
    expect(capacityProblem(t, 'in-process', { openFiles: 65536, memoryBytes: 2 * 2 ** 30 })).to.equal(undefined);
  });

  it('lets a small topology through on this machine', () => {
    expect(capacityProblem(topology(3, 2), 'in-process')).to.equal(undefined);
    const limit = openFileLimit();
    expect(limit === null || limit > 0).to.equal(true);
  });
});
