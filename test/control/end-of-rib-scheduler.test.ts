// When End-of-RIB goes out (docs/protocol.md §4.3): after a quiet time, and after a start only once every
// expected agent has sent its own (or the selection deferral has run out).
import { expect } from 'chai';
import { EndOfRibScheduler } from '../../src/control/end-of-rib-scheduler.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

function scheduler(expected: string[], deferralMs: number) {
  const sent: string[] = [];
  const log: string[] = [];
  const s = new EndOfRibScheduler<{ name: string }>({
    timing: { quietMs: 10, checkMs: 5, timeoutMs: 60_000, deferralMs },
    expectedAgents: expected,
    send: (channel) => (sent.push(channel.name), true),
    log: (line) => log.push(line),
  });
  s.start();
  return { s, sent, log };
}

describe('control/end-of-rib-scheduler', () => {
  it('holds End-of-RIB after a start until every expected agent has sent its own', async () => {
    const { s, sent, log } = scheduler(['compute-1', 'compute-2'], 60_000);
    try {
      s.activity({ name: 'compute-1' });
      s.agentEndOfRib('compute-1');
      await sleep(100); // ten quiet times
      expect(sent, 'compute-2 has not re-published yet').to.deep.equal([]);
      expect(s.status()).to.deep.include({ deferring: true, waitingFor: ['compute-2'] });
      s.agentEndOfRib('compute-2');
      await until(() => sent.length === 1, 'End-of-RIB went out');
      expect(sent).to.deep.equal(['compute-1']);
      expect(log.join('\n')).to.include('every expected agent has sent End-of-RIB');
    } finally {
      s.stop();
    }
  });

  it('gives up waiting when the deferral timer expires, naming who never came', async () => {
    const { s, sent, log } = scheduler(['compute-1', 'compute-2'], 30);
    try {
      s.activity({ name: 'compute-1' });
      await until(() => sent.length === 1, 'End-of-RIB went out');
      expect(log.join('\n')).to.include('timer expired; no End-of-RIB from compute-1, compute-2');
    } finally {
      s.stop();
    }
  });

  it('without expected agents only the quiet time counts, and activity restarts it', async () => {
    const { s, sent } = scheduler([], 60_000);
    try {
      expect(s.deferring).to.equal(false);
      const channel = { name: 'compute-9' };
      s.activity(channel);
      await until(() => sent.length === 1, 'End-of-RIB went out');
      s.forget(channel);
      expect(s.status().pending).to.equal(0);
    } finally {
      s.stop();
    }
  });

  it('activity in a group restarts the quiet time of the pending channels in it, and only theirs', () => {
    let now = 0;
    const sent: string[] = [];
    const groups = new Map<string, string[]>([['compute-1', ['vrf-a']], ['compute-2', ['vrf-b']]]);
    const s = new EndOfRibScheduler<{ name: string }>({
      timing: { quietMs: 100, checkMs: 60_000, timeoutMs: 60_000, deferralMs: 0 },
      expectedAgents: [],
      send: (channel) => (sent.push(channel.name), true),
      groupsOf: (channel) => groups.get(channel.name) ?? [],
      log: () => {},
      now: () => now,
    });
    const check = () => (s as unknown as { check(): void }).check();
    try {
      s.activity({ name: 'compute-1' });
      s.activity({ name: 'compute-2' });
      now = 80;
      s.groupActivity('vrf-a');
      now = 120;
      check();
      expect(sent, 'compute-1 heard of vrf-a at 80').to.deep.equal(['compute-2']);
      now = 179;
      check();
      expect(sent).to.deep.equal(['compute-2']);
      now = 180;
      check();
      expect(sent).to.deep.equal(['compute-2', 'compute-1']);
      expect(s.status().pending).to.equal(0);
    } finally {
      s.stop();
    }
  });
});
