import { ConfigError } from './config-error.ts';
import type { ConfigKind } from './objects.ts';
import { parseIpv4Address, parseIpv4Subnet } from '../net/ipv4.ts';
import { CONFIG_NAME_RULE, isConfigName } from './names.ts';

/**
 * Runtime checks of request fields: requests arrive as JSON from the HTTP API and the CLI, so the
 * TypeScript types of the specs promise nothing. Each check throws a ConfigError naming the field.
 */
export class FieldChecks {
  constructor(
    private readonly kind: ConfigKind,
    private readonly objectName: string,
  ) {}

  fail(field: string | undefined, reason: string): never {
    throw new ConfigError(this.kind, this.objectName, reason, field);
  }

  name(value: unknown, field = 'name'): string {
    if (typeof value !== 'string' || value.trim() === '' || value !== value.trim()) {
      this.fail(field, `must be a non-empty string without surrounding spaces, got ${JSON.stringify(value)}`);
    }
    if (!isConfigName(value)) this.fail(field, `${JSON.stringify(value)} is not a valid name: use ${CONFIG_NAME_RULE}`);
    return value;
  }

  port(value: unknown, field: string): number {
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
      this.fail(field, `must be an integer port from 1 to 65535, got ${JSON.stringify(value)}`);
    }
    return value as number;
  }

  integer(value: unknown, field: string, min: number, max: number): number {
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
      this.fail(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value as number;
  }

  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${JSON.stringify(value)}`);
    return value;
  }

  oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
    if (!allowed.includes(value as T)) {
      this.fail(field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    }
    return value as T;
  }

  listOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T[] {
    if (!Array.isArray(value)) this.fail(field, `must be a list, got ${JSON.stringify(value)}`);
    const seen = new Set<T>();
    return value.map((item, index) => {
      const checked = this.oneOf(item, allowed, `${field}[${index}]`);
      if (seen.has(checked)) this.fail(`${field}[${index}]`, `${checked} is listed twice`);
      seen.add(checked);
      return checked;
    });
  }

  names(value: unknown, field: string): string[] {
    if (!Array.isArray(value)) this.fail(field, `must be a list of names, got ${JSON.stringify(value)}`);
    const seen = new Set<string>();
    return value.map((item, index) => {
      const checked = this.name(item, `${field}[${index}]`);
      if (seen.has(checked)) this.fail(`${field}[${index}]`, `${checked} is listed twice`);
      seen.add(checked);
      return checked;
    });
  }

  address(value: unknown, field: string): string {
    const parsed = parseIpv4Address(value as string);
    if (typeof parsed === 'string') this.fail(field, parsed);
    return value as string;
  }

  subnet(value: unknown, field: string): string {
    const parsed = parseIpv4Subnet(value as string);
    if (typeof parsed === 'string') this.fail(field, parsed);
    return value as string;
  }

  mac(value: unknown, field: string): string {
    if (typeof value !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(value)) {
      this.fail(field, `must be a MAC address in lower-case hex (aa:bb:cc:dd:ee:ff), got ${JSON.stringify(value)}`);
    }
    return value;
  }

  text(value: unknown, field: string): string {
    if (typeof value !== 'string' || value === '') this.fail(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
    return value;
  }
}
