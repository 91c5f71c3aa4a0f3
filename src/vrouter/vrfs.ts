// The VRFs of one vRouter: names <-> the ids that flow keys carry (23 bits), and each VRF's FIB.
// Not here: what a FIB entry holds (composite-nh.ts) or the longest-prefix match itself (vrf-fib.ts).
import { VrfFib, type DeferredRoutes } from './vrf-fib.ts';

export const MAX_VRFS = 1 << 23;

export class VrfTable<R, D = never> {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly fibs: (VrfFib<R, D> | undefined)[] = [];
  private deferred: ((vrfId: number) => DeferredRoutes<R, D>) | undefined;

  constructor(private readonly owner: string) {}

  /** Deferred routes of every FIB created from now on are materialized by `hooks` (see vrf-fib.ts). */
  deferWith(hooks: (vrfId: number) => DeferredRoutes<R, D>): void {
    this.deferred = hooks;
  }

  get count(): number { return this.names.length; }

  /** The id of a VRF already known, without creating one. */
  idOf(name: string): number | undefined {
    return this.ids.get(name);
  }

  nameOf(id: number): string | undefined {
    return this.names[id];
  }

  has(name: string): boolean {
    return this.ids.has(name);
  }

  available(name: string): boolean {
    return this.ids.has(name) || this.names.length < MAX_VRFS;
  }

  /** The VRF's id, created on first use; callers have checked `available`: the id space is 23 bits of the flow key. */
  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.names.length >= MAX_VRFS) throw new Error(`vrouter ${this.owner}: more than ${MAX_VRFS} VRFs`);
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  /** Ids in creation order with their names. */
  entries(): [id: number, name: string][] {
    return this.names.map((name, id) => [id, name]);
  }

  fib(id: number): VrfFib<R, D> | undefined {
    return this.fibs[id];
  }

  fibFor(id: number): VrfFib<R, D> {
    let fib = this.fibs[id];
    if (fib === undefined) { fib = new VrfFib<R, D>(this.deferred?.(id)); this.fibs[id] = fib; }
    return fib;
  }
}
