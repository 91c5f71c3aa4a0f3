import type { ConfigKind } from './objects.ts';

/**
 * A refused config change. Thrown before anything is modified: the store is exactly as it was.
 * `field` names the offending property of the request (e.g. `port`, `subnets[1]`) when there is one.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly kind: ConfigKind;
  readonly objectName: string;
  readonly field: string | undefined;
  readonly reason: string;

  constructor(kind: ConfigKind, objectName: string, reason: string, field?: string) {
    super(`${kind} ${objectName}: ${field ? `${field}: ` : ''}${reason}`);
    this.kind = kind;
    this.objectName = objectName;
    this.field = field;
    this.reason = reason;
  }
}
