/** NOTIFICATION error codes and subcodes (RFC 4271 §4.5, RFC 4486, RFC 7313). */
export const ErrorCode = {
  messageHeader: 1,
  open: 2,
  update: 3,
  holdTimerExpired: 4,
  fsm: 5,
  cease: 6,
  routeRefresh: 7,
} as const;

export const HeaderSubcode = { connectionNotSynchronized: 1, badMessageLength: 2, badMessageType: 3 } as const;

export const OpenSubcode = {
  unsupportedVersion: 1,
  badPeerAs: 2,
  badBgpIdentifier: 3,
  unsupportedOptionalParameter: 4,
  unacceptableHoldTime: 6,
  unsupportedCapability: 7,
} as const;

export const UpdateSubcode = {
  malformedAttributeList: 1,
  unrecognizedWellKnownAttribute: 2,
  missingWellKnownAttribute: 3,
  attributeFlagsError: 4,
  attributeLengthError: 5,
  invalidOrigin: 6,
  invalidNextHop: 8,
  optionalAttributeError: 9,
  invalidNetworkField: 10,
  malformedAsPath: 11,
} as const;

export const CeaseSubcode = {
  maxPrefixes: 1,
  administrativeShutdown: 2,
  peerDeconfigured: 3,
  administrativeReset: 4,
  connectionRejected: 5,
  otherConfigurationChange: 6,
  connectionCollisionResolution: 7,
  outOfResources: 8,
} as const;

/**
 * A problem in received bytes that RFC 4271 / RFC 7606 answers with a NOTIFICATION and a session reset.
 * Recoverable problems (treat-as-withdraw, attribute-discard) are reported on the decoded UPDATE instead.
 */
export class BgpProtocolError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;

  constructor(code: number, subcode: number, message: string, data: Buffer = Buffer.alloc(0)) {
    super(message);
    this.name = 'BgpProtocolError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }
}
