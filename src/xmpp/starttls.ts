// XMPP over TLS as Contrail's xmpp_auth_enable does it (docs/protocol.md §2.3): the nonzas of the STARTTLS
// negotiation (stream features with a required <starttls/>, the client's <starttls/>, the server's
// <proceed/>), finding them in the bytes before TLS, and the certificate-name rule of mutual
// authentication. Owns no socket: the server session (./server.ts) and the agent client
// (./agent-client.ts) run the negotiation and the TLS handshake on their own connection.
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';

export const STARTTLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';

/** CA, own certificate and key, PEM: what each end of an authenticated session holds. */
export interface XmppTlsMaterial {
  readonly ca: Buffer | string;
  readonly cert: Buffer | string;
  readonly key: Buffer | string;
}

/** The server's features after its header: STARTTLS and nothing else, required. */
export function encodeStartTlsFeatures(): string {
  return `<stream:features><starttls xmlns="${STARTTLS_NS}"><required/></starttls></stream:features>`;
}

export function encodeStartTls(): string {
  return `<starttls xmlns="${STARTTLS_NS}"/>`;
}

export function encodeProceed(): string {
  return `<proceed xmlns="${STARTTLS_NS}"/>`;
}

export function encodeTlsFailure(): string {
  return `<failure xmlns="${STARTTLS_NS}"/>`;
}

/** Byte length of the stream header at the start of `text` (our own server's header), or -1 while incomplete. */
export function streamHeaderLength(text: string): number {
  const start = text.indexOf('<stream:stream');
  if (start < 0) return -1;
  const end = text.indexOf('>', start);
  return end < 0 ? -1 : end + 1;
}

export type NegotiationStep =
  | { kind: 'incomplete' }
  | { kind: 'found'; rest: string }
  | { kind: 'refused'; why: string };

/** Server side: the client's `<starttls/>` (self-closed or not), after optional whitespace/keepalives. */
export function findStartTls(text: string): NegotiationStep {
  const trimmed = text.replace(/^[\s\u0200]+/u, '');
  if (trimmed === '') return { kind: 'incomplete' };
  if (!trimmed.startsWith('<starttls')) return '<starttls'.startsWith(trimmed) ? { kind: 'incomplete' } : { kind: 'refused', why: 'expected <starttls/> before anything else' };
  const selfClosed = trimmed.indexOf('/>');
  const open = trimmed.indexOf('>');
  if (open < 0) return { kind: 'incomplete' };
  if (selfClosed >= 0 && selfClosed + 1 === open) return { kind: 'found', rest: trimmed.slice(open + 1) };
  const close = trimmed.indexOf('</starttls>');
  return close < 0 ? { kind: 'incomplete' } : { kind: 'found', rest: trimmed.slice(close + '</starttls>'.length) };
}

/** Client side: the server's features must offer STARTTLS. */
export function findFeatures(text: string): NegotiationStep {
  const end = text.indexOf('</stream:features>');
  if (end < 0) return text.includes('<stream:features/>') ? { kind: 'refused', why: 'the server offers no STARTTLS (is xmppAuth on at the control node?)' } : { kind: 'incomplete' };
  const features = text.slice(0, end);
  if (!features.includes('<starttls')) return { kind: 'refused', why: 'the server offers no STARTTLS' };
  return { kind: 'found', rest: text.slice(end + '</stream:features>'.length) };
}

/** Client side: `<proceed/>` lets the TLS handshake start; `<failure/>` ends the attempt. */
export function findProceed(text: string): NegotiationStep {
  if (text.includes('<failure')) return { kind: 'refused', why: 'the server refused STARTTLS' };
  const at = text.indexOf('<proceed');
  if (at < 0) return { kind: 'incomplete' };
  const end = text.indexOf('>', at);
  return end < 0 ? { kind: 'incomplete' } : { kind: 'found', rest: text.slice(end + 1) };
}

/** The names a certificate speaks for: its subject CN and every DNS and IP subjectAltName. */
export function certificateNames(cert: PeerCertificate): string[] {
  const names: string[] = [];
  const cn = cert.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...(cn as string[]));
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*(DNS|IP Address):(.+)$/.exec(part);
    if (m) names.push(m[2].trim());
  }
  return names;
}

/** Mutual authentication: null when the certificate speaks for one of `wanted`, else why not. */
export function certificateMismatch(cert: PeerCertificate | undefined, wanted: readonly string[]): string | null {
  if (!cert || Object.keys(cert).length === 0) return 'no certificate presented';
  const names = certificateNames(cert);
  if (names.some((n) => wanted.includes(n))) return null;
  return `certificate is for ${names.join(', ') || 'no name'}, not ${wanted.join(' or ')}`;
}

/** Every certificate of a PEM bundle (a CA file may hold several). */
export function parseCertificateBundle(pem: Buffer | string): X509Certificate[] {
  const blocks = String(pem).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/**
 * The chain check a server-side TLSSocket made by hand does not do (only tls.Server does): the peer's
 * certificate is within its validity and issued and signed by one of the CAs (one level, as Contrail's
 * deployments issue them). The TLS handshake itself proved the peer holds the key. Null when it holds.
 */
export function certificateNotTrusted(peer: X509Certificate | undefined, cas: readonly X509Certificate[], now = Date.now()): string | null {
  if (!peer) return 'no certificate presented';
  if (now < Date.parse(peer.validFrom) || now > Date.parse(peer.validTo)) return `certificate not valid now (${peer.validFrom} to ${peer.validTo})`;
  if (cas.some((ca) => peer.checkIssued(ca) && peer.verify(ca.publicKey))) return null;
  return `certificate not signed by the CA (issuer: ${peer.issuer.replace(/\n/g, ', ')})`;
}
