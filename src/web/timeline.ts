// What changed between two live views, as timeline entries: members added, removed, taken down by admin
// or by their health check; nodes going down and coming back; sessions going up or down. Pure: it
// compares documents, the watcher decides when.
import type { LiveView, TimelineEntry, TimelineKind } from './view-model.ts';

export type TimelineDraft = Omit<TimelineEntry, 'seq' | 'time'>;

export function timelineChanges(prev: LiveView, next: LiveView): TimelineDraft[] {
  const out: TimelineDraft[] = [];
  const add = (kind: TimelineKind, text: string): void => {
    out.push({ kind, text });
  };

  const before = new Map(prev.nodes.map((n) => [n.name, n]));
  for (const n of next.nodes) {
    const was = before.get(n.name);
    if (!was || was.alive === n.alive) continue;
    if (n.alive) add('node-up', `${n.kind} ${n.name} is up again (restarted)`);
    else add('node-down', `${n.kind} ${n.name} went down (killed)`);
  }

  const prevMembers = new Map(prev.vips.flatMap((v) => v.members.map((m) => [`${v.loadBalancer}|${m.name}`, { vip: v, m }] as const)));
  const nextMembers = new Map(next.vips.flatMap((v) => v.members.map((m) => [`${v.loadBalancer}|${m.name}`, { vip: v, m }] as const)));
  for (const [key, { vip, m }] of nextMembers) {
    const where = m.workload ? ` (${m.workload}${m.compute ? ` on ${m.compute}` : ''})` : '';
    const was = prevMembers.get(key)?.m;
    if (!was) {
      add('member-added', `member ${m.address}:${m.port}${where} added to ${vip.loadBalancer}`);
      continue;
    }
    if (was.adminState !== m.adminState) add('member-admin', `member ${m.address}:${m.port}${where} of ${vip.loadBalancer} admin ${m.adminState ? 'up' : 'down'}`);
    if (was.healthy !== null && m.healthy !== null && was.healthy !== m.healthy) {
      add('member-health', `member ${m.address}:${m.port}${where} of ${vip.loadBalancer} is ${m.healthy ? 'healthy again' : 'unhealthy'}`);
    }
  }
  for (const [key, { vip, m }] of prevMembers) {
    if (!nextMembers.has(key)) add('member-removed', `member ${m.address}:${m.port}${m.workload ? ` (${m.workload})` : ''} removed from ${vip.loadBalancer}`);
  }

  const prevSessions = new Map(prev.sessions.map((s) => [s.edgeId, s]));
  for (const s of next.sessions) {
    const was = prevSessions.get(s.edgeId);
    if (!was) continue;
    if (was.state !== 'up' && s.state === 'up') add('session-up', `${s.kind.toUpperCase()} ${s.a} ↔ ${s.b} established`);
    if (was.state === 'up' && s.state !== 'up') add('session-down', `${s.kind.toUpperCase()} ${s.a} ↔ ${s.b} down: ${s.detail}`);
  }
  return out;
}
