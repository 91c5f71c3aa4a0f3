// Human-readable form of a trace (like contrail-introspect-cli `follow`): one line per decision, grouped by compute.
import type { TraceStep } from './packet.ts';

export function formatTrace(steps: readonly TraceStep[]): string {
  const width = steps.reduce((w, s) => Math.max(w, s.step.length), 0);
  const lines: string[] = [];
  let node = '';
  for (const s of steps) {
    if (s.node !== node) {
      node = s.node;
      lines.push(`${node}:`);
    }
    lines.push(`  ${s.step.padEnd(width)}  ${s.detail}`);
  }
  return lines.join('\n');
}
