// Entry of an agent worker thread (./agent-thread.ts): a worker does not inherit the tsx loader of the main
// thread, so it registers tsx itself (as bin/ecmpsim.js does) and then runs the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./agent-worker.ts');
