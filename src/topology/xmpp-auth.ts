// The topology's `xmppAuth` (docs/protocol.md §2.3, Contrail's xmpp_auth_enable): which CA, certificate and key
// files each control node and agent uses. A top-level section turns it on and may name files every node
// shares; a node's own `xmppAuth` names its certificate and key. Owns resolving those names per node
// (paths relative to the topology file) and reading the files with a one-line error; not TLS itself
// (src/xmpp/starttls.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { XmppTlsMaterial } from '../xmpp/starttls.ts';

export interface XmppAuthFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface RawXmppAuth {
  enable?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** A node's files when xmppAuth is on, or undefined when it is off; a missing file name is reported at `nodePath`. */
export function nodeXmppAuth(
  global: RawXmppAuth | undefined,
  own: Pick<RawXmppAuth, 'certFile' | 'keyFile'> | undefined,
  nodePath: string,
  fail: (path: string, message: string) => void,
): XmppAuthFiles | undefined {
  if (global?.enable !== true) {
    if (own !== undefined) fail(`${nodePath}.xmppAuth`, 'needs the top-level xmppAuth.enable: true');
    return undefined;
  }
  const caFile = global.caFile;
  const certFile = own?.certFile ?? global.certFile;
  const keyFile = own?.keyFile ?? global.keyFile;
  if (certFile === undefined) fail(`${nodePath}.xmppAuth.certFile`, 'required when xmppAuth is enabled (or a top-level xmppAuth.certFile)');
  if (keyFile === undefined) fail(`${nodePath}.xmppAuth.keyFile`, 'required when xmppAuth is enabled (or a top-level xmppAuth.keyFile)');
  if (caFile === undefined || certFile === undefined || keyFile === undefined) return undefined;
  return { caFile, certFile, keyFile };
}

export function xmppAuthProblems(global: RawXmppAuth | undefined): { path: string; message: string }[] {
  if (global?.enable === true && global.caFile === undefined) return [{ path: 'xmppAuth.caFile', message: 'required when xmppAuth is enabled' }];
  return [];
}

/** File names as written, made absolute against the topology file's directory. */
export function filesRelativeTo(files: XmppAuthFiles, dir: string): XmppAuthFiles {
  const at = (file: string): string => path.resolve(dir, file);
  return { caFile: at(files.caFile), certFile: at(files.certFile), keyFile: at(files.keyFile) };
}

/** Reads a node's CA, certificate and key; a file that cannot be read is one line naming node, field and file. */
export function readXmppAuth(node: string, files: XmppAuthFiles): XmppTlsMaterial {
  const read = (field: keyof XmppAuthFiles): Buffer => {
    try {
      return readFileSync(files[field]);
    } catch (e) {
      throw new Error(`${node}: cannot read xmppAuth.${field} ${files[field]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return { ca: read('caFile'), cert: read('certFile'), key: read('keyFile') };
}
