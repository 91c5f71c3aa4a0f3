// Strict parsing of the CLI's option values: every number, port, address, prefix and destination is
// checked where commander reads it, so a bad value is one usage line (exit 2) before anything runs.
// Owns the rules for option text only; what the simulation accepts is the API's business.
import { InvalidArgumentError } from 'commander';
import { formatIpv4Prefix, isIpv4, parseIpv4Prefix } from '../net/ipv4.ts';

const INTEGER = /^[+-]?\d+$/;

/** A commander parser for an integer in [min, max]: `--count abc` or `--limit -3` is refused. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = INTEGER.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  };
}

/** A TCP/UDP port, 1..65535 (0 too when `anyPort`: "pick a free one"). */
export function port(anyPort = false): (value: string) => number {
  return integerIn(anyPort ? 0 : 1, 65535);
}

export function ipv4Address(value: string): string {
  if (!isIpv4(value)) throw new InvalidArgumentError(`${JSON.stringify(value)} is not an IPv4 address`);
  return value;
}

/** A route prefix; a bare address means its /32. */
export function ipv4Prefix(value: string): string {
  const parsed = parseIpv4Prefix(value.includes('/') ? value : `${value}/32`);
  if (typeof parsed === 'string') throw new InvalidArgumentError(parsed);
  return formatIpv4Prefix(parsed);
}

/** `address:port`, e.g. 30.30.30.100:80. */
export function destination(value: string): string {
  const colon = value.lastIndexOf(':');
  if (colon < 0) throw new InvalidArgumentError(`expected address:port, e.g. 30.30.30.100:80, got ${JSON.stringify(value)}`);
  const address = ipv4Address(value.slice(0, colon));
  const p = value.slice(colon + 1);
  try {
    port()(p);
  } catch {
    throw new InvalidArgumentError(`the port of ${value} must be from 1 to 65535`);
  }
  return `${address}:${Number(p)}`;
}
