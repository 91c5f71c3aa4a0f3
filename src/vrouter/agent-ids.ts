// The agent hands out small integers the way Contrail's agent does: the lowest free one at or above a
// floor. MPLS labels start at 16 (0–15 are reserved, docs/protocol.md §7.1); VRF indexes, which become the RD's assigned
// number through the subscribe instance-id (docs/protocol.md §3.1, §6.2), start at 2 because the real agent gives 0 to the
// fabric VRF and 1 to the link-local one.
import { MPLS_AGENT_LABEL_MIN, MPLS_LABEL_MAX } from '../net/labels.ts';

export class LowestFreeAllocator {
  private readonly used = new Set<number>();
  private readonly byKey = new Map<string, number>();

  constructor(
    private readonly floor: number,
    private readonly ceiling: number,
  ) {}

  /** The number held by `key`, allocating the lowest free one on first use. */
  acquire(key: string): number {
    const held = this.byKey.get(key);
    if (held !== undefined) return held;
    for (let n = this.floor; n <= this.ceiling; n++) {
      if (!this.used.has(n)) {
        this.used.add(n);
        this.byKey.set(key, n);
        return n;
      }
    }
    throw new Error(`no free number left in ${this.floor}..${this.ceiling}`);
  }

  release(key: string): void {
    const held = this.byKey.get(key);
    if (held === undefined) return;
    this.byKey.delete(key);
    this.used.delete(held);
  }

  get(key: string): number | undefined {
    return this.byKey.get(key);
  }

  entries(): [string, number][] {
    return [...this.byKey.entries()];
  }
}

/** docs/protocol.md §7.1: labels from 16; the top of a 20-bit label space stays free like the real multicast block. */
export function labelAllocator(): LowestFreeAllocator {
  return new LowestFreeAllocator(MPLS_AGENT_LABEL_MIN, MPLS_LABEL_MAX - 4098);
}

export function vrfIndexAllocator(): LowestFreeAllocator {
  return new LowestFreeAllocator(2, 0xffff);
}
