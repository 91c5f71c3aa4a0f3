// The routes the control nodes reflect to the agent (docs/protocol.md §4 and docs/protocol.md §7.3), kept per
// control node with their stale copies across a lost or restarted session, and the FIB entry chosen from
// them. Owns the tables, the choice between control nodes and the programming of remote routes into the
// vRouter. Not here: the session (when a table goes stale, when End-of-RIB comes) is the agent's, the
// stale/sweep bookkeeping is ../rib/stale-sweep.ts, what the agent publishes is ./route-export.ts.
import type { XmppRouteEntry } from '../xmpp/route-entry.ts';
import { StaleSweep } from '../rib/stale-sweep.ts';
import { sharedEntryCache } from '../xmpp/entry-cache.ts';
import { MAX_ECMP_MEMBERS } from '../net/ecmp.ts';
import type { RemoteNextHop, Vrouter } from './vrouter.ts';
import { routeKey, splitRouteKey } from './agent-plan.ts';
import { hashFieldsOf } from './load-balance-fields.ts';
import type { HashField } from '../net/hash-fields.ts';


/** A route as one control node sent it (introspection). */
export interface ReceivedRoute {
  controlNode: string;
  instance: string;
  prefix: string;
  stale: boolean;
  nextHops: RemoteNextHop[];
}

/** What the tables need to know of a control-node session: index in `sessions` = the source number. */
export interface SessionView {
  readonly established: boolean;
  /** The current session has sent its End-of-RIB: its table is complete. */
  readonly synced: boolean;
  readonly name: string;
}

export interface ReceivedRoutesOptions {
  /** The vRouter's remote-route programming: all the tables need of it. */
  vrouter: Pick<Vrouter, 'setRoute' | 'deleteRoute'>;
  sessions: readonly SessionView[];
  isMaglev(prefix: string): boolean;
  /** After the FIB entry of (instance, prefix) has been recomputed. */
  changed(instance: string, prefix: string): void;
}

/** What the vRouter is given for a received entry; shared, read-only. */
interface Programmed { nextHops: RemoteNextHop[]; loadBalanceFields: HashField[] | undefined }
const programmedEntries = new WeakMap<XmppRouteEntry, Programmed>();

/** An entry's next hops and hash fields, derived once per entry object (entries are shared by the process's agents). */
function programmedOf(entry: XmppRouteEntry): Programmed {
  let p = programmedEntries.get(entry);
  if (p === undefined) {
    p = {
      // docs/protocol.md §5: the agent ignores received next-hops with label 0.
      nextHops: entry.nextHops
        .filter((nh) => nh.label !== 0)
        .slice(0, MAX_ECMP_MEMBERS)
        .map((nh) => ({ address: nh.address, label: nh.label, encapsulations: nh.encapsulations })),
      loadBalanceFields: hashFieldsOf(entry.loadBalance.fields),
    };
    programmedEntries.set(entry, p);
  }
  return p;
}

/**
 * instance → prefix → routeKey(instance, prefix), one string per route for all the agents of the process (or
 * worker thread): the instance and prefix strings of shared entries are the same objects each time, so two
 * map lookups replace building and hashing a new key per received item. Starts over past KEY_LIMIT keys.
 */
const routeKeys = new Map<string, Map<string, string>>();
let routeKeyCount = 0;
const KEY_LIMIT = 1 << 20;

function sharedRouteKey(instance: string, prefix: string): string {
  let byPrefix = routeKeys.get(instance);
  if (byPrefix === undefined) {
    if (routeKeyCount >= KEY_LIMIT) { routeKeys.clear(); routeKeyCount = 0; }
    routeKeys.set(instance, (byPrefix = new Map()));
  }
  let key = byPrefix.get(prefix);
  if (key === undefined) {
    if (routeKeyCount >= KEY_LIMIT) { routeKeys.clear(); routeKeyCount = 0; routeKeys.set(instance, byPrefix); byPrefix.clear(); }
    key = sharedEntryCache.name(routeKey(instance, prefix));
    byPrefix.set(prefix, key);
    routeKeyCount++;
  }
  return key;
}

export class ReceivedRoutes {
  /** source = index of the control node in `sessions`; key = routeKey(instance, prefix). */
  private readonly tables = new StaleSweep<number, string, XmppRouteEntry>();

  constructor(private readonly options: ReceivedRoutesOptions) {}

  learn(source: number, instance: string, entry: XmppRouteEntry): void {
    const key = sharedRouteKey(instance, entry.prefix);
    this.tables.refresh(source, key, entry);
    this.refresh(instance, entry.prefix, key);
  }

  unlearn(source: number, instance: string, prefix: string): void {
    const key = routeKey(instance, prefix);
    this.tables.withdraw(source, key);
    this.refresh(instance, prefix, key);
  }

  /**
   * A session to the source started: what earlier sessions told us stays in force until this one's
   * End-of-RIB. Returns whether anything is stale (then the agent arms its sweep timer).
   */
  sessionStarted(source: number): boolean {
    this.tables.markStale(source);
    return this.tables.hasStale(source);
  }

  /** docs/protocol.md §7.3: paths learned from a lost control node are kept; the other one's copy keeps forwarding. */
  sessionLost(source: number): void {
    for (const key of this.tables.markStale(source)) this.refresh(...splitRouteKey(key));
  }

  /** End-of-RIB (or the sweep timer): the session's table is complete, older entries go. */
  sweep(source: number): void {
    const { removed, refreshed } = this.tables.sweep(source);
    for (const key of [...removed, ...refreshed]) this.refresh(...splitRouteKey(key));
  }

  /** The VRF was unsubscribed on the source's session: nothing it said about the VRF holds. */
  dropInstance(source: number, instance: string): void {
    const keys = this.tables.deleteWhere(source, (key) => splitRouteKey(key)[0] === instance);
    for (const key of keys) this.refresh(...splitRouteKey(key));
  }

  /** Whether some control node's entry for (instance, prefix), current or stale, has a next-hop `matches` accepts. */
  anyNextHop(instance: string, prefix: string, matches: (nh: XmppRouteEntry['nextHops'][number]) => boolean): boolean {
    const key = routeKey(instance, prefix);
    return this.options.sessions.some((_, source) =>
      [this.tables.fresh(source, key), this.tables.stale(source, key)].some((entry) => entry?.nextHops.some(matches) === true));
  }

  receivedCount(source: number): number {
    return this.tables.freshCount(source);
  }

  staleCount(source: number): number {
    return this.tables.staleCount(source);
  }

  /** The routes received from each control node, per VRF, as the agent holds them. */
  list(instance?: string): ReceivedRoute[] {
    const out: ReceivedRoute[] = [];
    this.options.sessions.forEach((session, source) => {
      for (const [stale, entries] of [[false, this.tables.freshEntries(source)], [true, this.tables.staleEntries(source)]] as const) {
        // grouped by VRF, in the order the VRFs were first heard of
        const byVrf = new Map<string, ReceivedRoute[]>();
        for (const [key, entry] of entries) {
          const [vrf, prefix] = splitRouteKey(key);
          if (instance && vrf !== instance) continue;
          let routes = byVrf.get(vrf);
          if (!routes) byVrf.set(vrf, (routes = []));
          routes.push({
            controlNode: session.name,
            instance: vrf,
            prefix,
            stale,
            nextHops: entry.nextHops.map((nh) => ({ address: nh.address, label: nh.label, encapsulations: nh.encapsulations })),
          });
        }
        for (const routes of byVrf.values()) out.push(...routes);
      }
    });
    return out;
  }

  /**
   * The route the FIB uses: the most trusted control node's entry, in configured order on a tie. Trust: a
   * synced session's entry (0), a session still re-learning its table (1: its older entry stays in force
   * until End-of-RIB, so that a control node coming back with a partial table does not shrink ECMP sets), a
   * lost session's (2). Runs for every received item: no object per source.
   */
  private effectiveEntry(key: string): XmppRouteEntry | undefined {
    let best: XmppRouteEntry | undefined;
    let bestRank = 3;
    const sessions = this.options.sessions;
    for (let source = 0; source < sessions.length; source++) {
      const session = sessions[source]!;
      const fresh = this.tables.fresh(source, key);
      let entry: XmppRouteEntry | undefined;
      let rank: number;
      if (session.established && session.synced) {
        entry = fresh;
        rank = 0;
      } else {
        entry = this.tables.stale(source, key) ?? fresh;
        rank = session.established ? 1 : 2;
      }
      if (entry !== undefined && rank < bestRank) {
        best = entry;
        bestRank = rank;
      }
    }
    return best;
  }

  private refresh(instance: string, prefix: string, key = routeKey(instance, prefix)): void {
    const entry = this.effectiveEntry(key);
    const programmed = entry === undefined ? undefined : programmedOf(entry);
    if (programmed === undefined || programmed.nextHops.length === 0) {
      this.options.vrouter.deleteRoute(instance, prefix);
    } else {
      this.options.vrouter.setRoute(instance, prefix, programmed.nextHops, {
        loadBalanceFields: programmed.loadBalanceFields,
        maglev: this.options.isMaglev(prefix),
      });
    }
    this.options.changed(instance, prefix);
  }
}
