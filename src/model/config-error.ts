import type { ConfigKind } from './objects.ts';

/** Why a change was refused: a bad request, a missing object, or a clash with the current state. */
export type ConfigErrorCode = 'invalid' | 'not-found' | 'conflict';

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
  readonly code: ConfigErrorCode;

  constructor(kind: ConfigKind, objectName: string, reason: string, field?: string, code: ConfigErrorCode = 'invalid') {
    super(`${kind} ${objectName}: ${field ? `${field}: ` : ''}${reason}`);
    this.kind = kind;
    this.objectName = objectName;
    this.field = field;
    this.reason = reason;
    this.code = code;
  }
}
