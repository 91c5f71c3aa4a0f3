// The fabric between computes: carries a packet with one MPLS label from one compute to another.
import type { ForwardResult, Packet, TraceStep } from './packet.ts';

/**
 * Receives a labelled packet. With `trace`, the receiver changes no state and appends its decisions.
 */
export type UnderlayReceiver = (label: number, p: Packet, from: string, trace?: TraceStep[]) => ForwardResult;

export interface Underlay {
  register(routerId: string, rx: UnderlayReceiver): void;
  unregister(routerId: string): void;
  send(from: string, to: string, label: number, p: Packet, trace?: TraceStep[]): ForwardResult;
  /** Asynchronous underlays: waits for the outcome of every in-flight part of a result (replies included). */
  settle?(r: ForwardResult): Promise<ForwardResult>;
  /**
   * Set when the underlay carries every tunnel one way whatever the route advertised (MPLS-over-UDP
   * between processes): the FIB shows it and a trace names it once, in the underlay's own step.
   */
  readonly encapsulation?: string;
}

export function unknownComputeDrop(from: string, to: string): ForwardResult {
  return {
    delivered: false,
    node: from,
    drop: { reason: 'unknown-compute', detail: `no compute answers at underlay address ${to}` },
    hops: [],
  };
}

/** Delivers synchronously by calling the destination compute's receiver. */
export class InProcessUnderlay implements Underlay {
  private readonly receivers = new Map<string, UnderlayReceiver>();

  register(routerId: string, rx: UnderlayReceiver): void {
    if (this.receivers.has(routerId)) throw new Error(`underlay address ${routerId} is already registered`);
    this.receivers.set(routerId, rx);
  }

  unregister(routerId: string): void {
    this.receivers.delete(routerId);
  }

  send(from: string, to: string, label: number, p: Packet, trace?: TraceStep[]): ForwardResult {
    const rx = this.receivers.get(to);
    if (rx === undefined) return unknownComputeDrop(from, to);
    return rx(label, { ...p }, from, trace);
  }
}
