// The verdict of one service-health-check on one VMI (docs/protocol.md §7.2 last paragraph, docs/protocol.md §8.2 step 5): the
// VMI is L3-active until `max-retries` probes in a row have failed, and active again after one success.
// Pure bookkeeping: whoever sends the probes (the agent) owns the clock.

export interface HealthCheckCounters {
  readonly probesSent: number;
  readonly failuresInRow: number;
  readonly active: boolean;
}

export class HealthCheckState implements HealthCheckCounters {
  #probesSent = 0;
  #failuresInRow = 0;
  // a VMI the check has not failed yet keeps its routes: attaching a monitor must not empty the pool
  #active = true;

  constructor(private maxRetries: number) {
    HealthCheckState.#checkRetries(maxRetries);
  }

  static #checkRetries(maxRetries: number): void {
    if (!Number.isInteger(maxRetries) || maxRetries < 1) throw new RangeError(`max-retries must be an integer ≥ 1, got ${maxRetries}`);
  }

  get probesSent(): number {
    return this.#probesSent;
  }

  get failuresInRow(): number {
    return this.#failuresInRow;
  }

  get active(): boolean {
    return this.#active;
  }

  probeSent(): void {
    this.#probesSent++;
  }

  /** Records a probe's outcome; true when the VMI's activity changed. */
  answer(ok: boolean): boolean {
    const was = this.#active;
    this.#failuresInRow = ok ? 0 : this.#failuresInRow + 1;
    this.#active = ok ? true : this.#active && this.#failuresInRow < this.maxRetries;
    return was !== this.#active;
  }

  /** The monitor's max-retries changed: judge the failures already counted by the new limit; true when activity changed. */
  setMaxRetries(maxRetries: number): boolean {
    HealthCheckState.#checkRetries(maxRetries);
    this.maxRetries = maxRetries;
    if (!this.#active || this.#failuresInRow < maxRetries) return false;
    this.#active = false;
    return true;
  }
}
