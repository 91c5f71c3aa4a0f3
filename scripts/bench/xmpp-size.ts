// One agent count of the xmpp benchmark in a process of its own (forked by ./xmpp-fanout.ts): a fresh control
// node whose heap and JIT state no other size shaped. Args: <agents> <quick|full> <phases>; progress lines and
// the figures go back over the IPC channel. Owns no measurement itself.
import { runSize } from './xmpp-fanout.ts';

const send = (m: unknown): void => void process.send?.(m);
const [agents, mode, phases] = process.argv.slice(2);
try {
  const figures = await runSize(Number(agents), { quick: mode === 'quick', log: (line) => send({ type: 'log', line }) }, phases ?? 'light,scale-out');
  send({ type: 'figures', figures });
} catch (e) {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
process.disconnect?.();
