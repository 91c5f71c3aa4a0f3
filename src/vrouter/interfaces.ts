// The local interfaces (VMIs) of one vRouter: the spec the agent gives, its validation into usable form
// (addresses as integers, floating-ips with their port maps) and the lookups by id, name and label.
// Not here: the /32 routes an interface installs (composite-nh.ts), packets to and from it (forwarding.ts).
import { fieldMask } from './ecmp-hash.ts';
import { buildPortMap, type PortMappingSpec } from './floating-ip-nat.ts';
import { parseAgentLabel } from '../net/labels.ts';
import { ipv4ToInt } from '../net/ipv4.ts';
import type { HashField } from '../net/hash-fields.ts';
import { MAX_VRFS, type VrfTable } from './vrfs.ts';

export interface FloatingIpSpec {
  address: string;
  vrf: string;
  virtualNetwork: string;
  portMappingsEnable: boolean;
  portMappings: PortMappingSpec[];
  direction: 'ingress' | 'egress' | 'both';
  /** Translate to this address instead of the interface's own (a pool FIP associated with a shared VIP). */
  fixedIp?: string;
}

export interface LocalInterfaceSpec {
  name: string;
  vrf: string;
  ip: string;
  mac: string;
  label: number;
  virtualNetwork: string;
  hashFields?: HashField[];
  floatingIps: FloatingIpSpec[];
  /** Further prefixes delivered to this interface without NAT (a shared active-active VIP, allowed-address-pairs). */
  sharedAddresses?: string[];
}

export interface LocalFip {
  address: string;
  addressInt: number;
  vrf: string;
  vrfId: number;
  portMappingsEnable: boolean;
  portMap: Map<number, number>;
  ingress: boolean;
  /** The DNAT target; -1: the interface's own address. */
  fixedIpInt: number;
}

export interface LocalInterface {
  id: number;
  spec: LocalInterfaceSpec;
  ipInt: number;
  vrfId: number;
  hashMask: number | undefined;
  fips: LocalFip[];
  /** sharedAddresses as [network, prefix length] */
  shared: [net: number, plen: number][];
}

/** Whether `dst` is one of the interface's shared prefixes. */
export function isSharedAddress(ifc: LocalInterface, dst: number): boolean {
  for (const [net, plen] of ifc.shared) {
    const mask = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
    if (((dst & mask) >>> 0) === net) return true;
  }
  return false;
}

function parseShared(prefixes: readonly string[]): [number, number][] | string {
  const out: [number, number][] = [];
  for (const prefix of prefixes) {
    const [address, length] = String(prefix).split('/');
    const net = ipv4ToInt(address);
    const plen = length === undefined ? 32 : Number(length);
    if (net < 0 || !Number.isInteger(plen) || plen < 0 || plen > 32) return `sharedAddresses: ${String(prefix)} is not an IPv4 prefix`;
    out.push([net, plen]);
  }
  return out;
}

/** What is wrong with a label this compute hands out (an interface's or a local composite's), or undefined. */
export function localLabelProblem(label: unknown): string | undefined {
  const parsed = parseAgentLabel(label);
  return typeof parsed === 'number' ? undefined : parsed;
}

export class InterfaceTable {
  readonly byId = new Map<number, LocalInterface>();
  readonly byName = new Map<string, LocalInterface>();
  readonly byLabel = new Map<number, LocalInterface>();
  private nextId = 0;

  names(): string[] {
    return [...this.byName.keys()];
  }

  /**
   * The floating-ips in usable form, or what is wrong with the spec. `compositeOn` names the prefix of a
   * local composite that already holds a label. Creates the ids of VRFs it names (as the vRouter did).
   */
  validate(spec: LocalInterfaceSpec, vrfs: VrfTable<unknown, unknown>, compositeOn: (label: number) => string | undefined): LocalFip[] | string {
    if (spec === null || typeof spec !== 'object') return 'spec is not an object';
    if (typeof spec.name !== 'string' || spec.name.length === 0) return 'name must be a non-empty string';
    if (typeof spec.vrf !== 'string' || spec.vrf.length === 0) return 'vrf must be a non-empty string';
    const named = [spec.vrf, ...(Array.isArray(spec.floatingIps) ? spec.floatingIps.map((f) => f?.vrf) : [])];
    if (new Set(named.filter((v) => typeof v === 'string' && !vrfs.has(v))).size + vrfs.count > MAX_VRFS) {
      return `no room for another VRF (${MAX_VRFS})`;
    }
    if (ipv4ToInt(spec.ip) < 0) return `ip ${String(spec.ip)} is not an IPv4 address`;
    const labelProblem = localLabelProblem(spec.label);
    if (labelProblem !== undefined) return labelProblem;
    const owner = this.byLabel.get(spec.label);
    if (owner !== undefined && owner.spec.name !== spec.name) return `label ${spec.label} is already used by interface ${owner.spec.name}`;
    const composite = compositeOn(spec.label);
    if (composite !== undefined) return `label ${spec.label} is already used by the local composite for ${composite}`;
    if (spec.hashFields !== undefined && (!Array.isArray(spec.hashFields) || fieldMask(spec.hashFields) === undefined)) return 'hashFields has an unknown field';
    if (!Array.isArray(spec.floatingIps)) return 'floatingIps is not a list';
    if (spec.sharedAddresses !== undefined) {
      const shared = Array.isArray(spec.sharedAddresses) ? parseShared(spec.sharedAddresses) : 'sharedAddresses is not a list';
      if (typeof shared === 'string') return shared;
    }
    const fips: LocalFip[] = [];
    for (const [i, f] of spec.floatingIps.entries()) {
      const addressInt = ipv4ToInt(f?.address);
      if (addressInt < 0) return `floatingIps[${i}].address ${String(f?.address)} is not an IPv4 address`;
      if (typeof f.vrf !== 'string' || f.vrf.length === 0) return `floatingIps[${i}].vrf must be a non-empty string`;
      if (!['ingress', 'egress', 'both'].includes(f.direction)) return `floatingIps[${i}].direction ${String(f.direction)} is not ingress, egress or both`;
      const portMap = buildPortMap(f.portMappings);
      if (typeof portMap === 'string') return `floatingIps[${i}].${portMap}`;
      const fixedIpInt = f.fixedIp === undefined ? -1 : ipv4ToInt(f.fixedIp);
      if (f.fixedIp !== undefined && fixedIpInt < 0) return `floatingIps[${i}].fixedIp ${String(f.fixedIp)} is not an IPv4 address`;
      fips.push({
        address: f.address, addressInt, vrf: f.vrf, vrfId: vrfs.id(f.vrf), portMappingsEnable: f.portMappingsEnable === true,
        portMap, ingress: f.direction !== 'egress', fixedIpInt,
      });
    }
    return fips;
  }

  /** Stores a validated spec (a copy of it) under the id of the interface it replaces, if any. */
  put(spec: LocalInterfaceSpec, fips: LocalFip[], vrfId: number): LocalInterface {
    const existing = this.byName.get(spec.name);
    const ifc: LocalInterface = {
      id: existing?.id ?? this.nextId++,
      spec: {
        ...spec,
        floatingIps: spec.floatingIps.map((f) => ({ ...f, portMappings: [...f.portMappings] })),
        ...(spec.sharedAddresses === undefined ? {} : { sharedAddresses: [...spec.sharedAddresses] }),
      },
      ipInt: ipv4ToInt(spec.ip),
      vrfId,
      hashMask: spec.hashFields === undefined ? undefined : fieldMask(spec.hashFields),
      fips,
      shared: parseShared(spec.sharedAddresses ?? []) as [number, number][],
    };
    if (existing !== undefined && existing.spec.label !== spec.label) this.byLabel.delete(existing.spec.label);
    this.byId.set(ifc.id, ifc);
    this.byName.set(spec.name, ifc);
    this.byLabel.set(spec.label, ifc);
    return ifc;
  }

  delete(ifc: LocalInterface): void {
    this.byName.delete(ifc.spec.name);
    this.byLabel.delete(ifc.spec.label);
    this.byId.delete(ifc.id);
  }
}

/** The /32 routes an interface installs: its own address, its shared /32s, and each ingress floating-ip in the FIP's VRF. */
export function localRoutesOf(ifc: LocalInterface): Map<string, [vrf: string, address: number]> {
  const routes = new Map<string, [string, number]>([[`${ifc.spec.vrf}|${ifc.ipInt}`, [ifc.spec.vrf, ifc.ipInt]]]);
  for (const fip of ifc.fips) if (fip.ingress) routes.set(`${fip.vrf}|${fip.addressInt}`, [fip.vrf, fip.addressInt]);
  // a shared /32 is reached locally like the interface's own address (wider prefixes only through the control node)
  for (const [net, plen] of ifc.shared) if (plen === 32) routes.set(`${ifc.spec.vrf}|${net}`, [ifc.spec.vrf, net]);
  return routes;
}
