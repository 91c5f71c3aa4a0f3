// Certificates for the XMPP-over-TLS tests, made with the openssl command line into a temp dir: a CA and
// leaf certificates issued to node names (CN and subjectAltName), as an operator would for
// xmpp_auth_enable. A second, unrelated CA makes certificates the control node must refuse.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export class TestPki {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A fresh directory with `ca.pem`/`ca.key` (the trusted CA) and `rogue-ca.pem`/`rogue-ca.key`. */
  static create(): TestPki {
    const pki = new TestPki(mkdtempSync(path.join(tmpdir(), 'ecmpsim-pki-')));
    for (const ca of ['ca', 'rogue-ca']) {
      pki.openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
        '-keyout', pki.file(`${ca}.key`), '-out', pki.file(`${ca}.pem`), '-subj', `/CN=ecmpsim test ${ca}`]);
    }
    return pki;
  }

  get caFile(): string {
    return this.file('ca.pem');
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  /** A leaf certificate for `name` (CN and DNS SAN, plus IP SANs), signed by the trusted CA or the rogue one. */
  issue(name: string, options: { addresses?: string[]; signer?: 'ca' | 'rogue-ca'; fileName?: string } = {}): CertificateFiles {
    const signer = options.signer ?? 'ca';
    const base = options.fileName ?? `${name}${signer === 'ca' ? '' : '-rogue'}`;
    const keyFile = this.file(`${base}.key`);
    const certFile = this.file(`${base}.pem`);
    const csr = this.file(`${base}.csr`);
    const ext = this.file(`${base}.ext`);
    const sans = [`DNS:${name}`, ...(options.addresses ?? []).map((a) => `IP:${a}`)].join(',');
    writeFileSync(ext, `subjectAltName=${sans}\n`);
    this.openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`]);
    this.openssl(['x509', '-req', '-in', csr, '-CA', this.file(`${signer}.pem`), '-CAkey', this.file(`${signer}.key`), '-CAcreateserial',
      '-days', '2', '-out', certFile, '-extfile', ext]);
    return { certFile, keyFile };
  }

  material(files: CertificateFiles): { ca: Buffer; cert: Buffer; key: Buffer } {
    return { ca: readFileSync(this.caFile), cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}
