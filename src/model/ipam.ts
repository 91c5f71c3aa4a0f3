import { IPv4, type IPv4CidrRange } from 'ip-num';
import { parseIpv4Address, parseIpv4Subnet } from '../net/ipv4.ts';

/** Why an address cannot be taken; the store turns it into a ConfigError. */
export class IpamError extends Error {
  override readonly name = 'IpamError';
}

interface SubnetState {
  readonly cidr: string;
  readonly range: IPv4CidrRange;
  readonly network: bigint;
  readonly gateway: bigint;
  readonly broadcast: bigint;
}

/**
 * Address management of one virtual network. As in Contrail's default IPAM the first host address of
 * every subnet is the gateway; network and broadcast addresses are never handed out.
 */
export class Ipam {
  readonly #subnets: SubnetState[];
  readonly #owners = new Map<bigint, string>();

  constructor(subnets: readonly string[]) {
    const problems = Ipam.subnetProblems(subnets);
    if (problems.length > 0) throw new IpamError(problems.join('; '));
    this.#subnets = subnets.map((cidr) => {
      const range = parseIpv4Subnet(cidr) as IPv4CidrRange;
      const network = range.getFirst().getValue();
      return { cidr, range, network, gateway: network + 1n, broadcast: range.getLast().getValue() };
    });
  }

  /** Each problem is a sentence naming the subnet; empty when the list is usable. */
  static subnetProblems(subnets: readonly string[]): string[] {
    const problems: string[] = [];
    if (subnets.length === 0) problems.push('a network needs at least one subnet');
    const parsed: { cidr: string; range: IPv4CidrRange }[] = [];
    for (const cidr of subnets) {
      const range = parseIpv4Subnet(cidr);
      if (typeof range === 'string') {
        problems.push(range);
        continue;
      }
      // network + gateway + broadcast leave nothing to allocate below /30
      if (Number(range.getPrefix().getValue()) > 30) {
        problems.push(`${cidr} is too small: a subnet needs a prefix length of at most /30`);
        continue;
      }
      const overlapping = parsed.find((other) => other.range.contains(range) || range.contains(other.range));
      if (overlapping) problems.push(`${cidr} overlaps ${overlapping.cidr}`);
      else parsed.push({ cidr, range });
    }
    return problems;
  }

  get subnets(): string[] {
    return this.#subnets.map((subnet) => subnet.cidr);
  }

  gatewayOf(address: string): string | undefined {
    const subnet = this.#subnetOf(address);
    return subnet ? IPv4.fromNumber(subnet.gateway).toString() : undefined;
  }

  contains(address: string): boolean {
    return this.#subnetOf(address) !== undefined;
  }

  ownerOf(address: string): string | undefined {
    const parsed = parseIpv4Address(address);
    return typeof parsed === 'string' ? undefined : this.#owners.get(parsed.getValue());
  }

  /** The reason `address` cannot be reserved, or undefined when it can. */
  problemWith(address: string): string | undefined {
    const parsed = parseIpv4Address(address);
    if (typeof parsed === 'string') return parsed;
    const value = parsed.getValue();
    const subnet = this.#subnets.find((candidate) => candidate.range.contains(parsed));
    if (!subnet) return `${address} is outside the subnets ${this.subnets.join(', ')}`;
    if (value === subnet.network) return `${address} is the network address of ${subnet.cidr}`;
    if (value === subnet.broadcast) return `${address} is the broadcast address of ${subnet.cidr}`;
    if (value === subnet.gateway) return `${address} is the gateway of ${subnet.cidr}`;
    const owner = this.#owners.get(value);
    if (owner !== undefined) return `${address} is already used by ${owner}`;
    return undefined;
  }

  reserve(address: string, owner: string): void {
    const problem = this.problemWith(address);
    if (problem) throw new IpamError(problem);
    this.#owners.set((parseIpv4Address(address) as IPv4).getValue(), owner);
  }

  /** The lowest free address, subnets in their configured order; undefined when all are full. */
  nextFree(): string | undefined {
    for (const subnet of this.#subnets) {
      for (let value = subnet.gateway + 1n; value < subnet.broadcast; value++) {
        if (!this.#owners.has(value)) return IPv4.fromNumber(value).toString();
      }
    }
    return undefined;
  }

  allocate(owner: string): string {
    const address = this.nextFree();
    if (address === undefined) throw new IpamError(`no free address left in ${this.subnets.join(', ')}`);
    this.reserve(address, owner);
    return address;
  }

  release(address: string): void {
    const parsed = parseIpv4Address(address);
    if (typeof parsed !== 'string') this.#owners.delete(parsed.getValue());
  }

  #subnetOf(address: string): SubnetState | undefined {
    const parsed = parseIpv4Address(address);
    if (typeof parsed === 'string') return undefined;
    return this.#subnets.find((subnet) => subnet.range.contains(parsed));
  }
}
