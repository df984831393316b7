// Writes a CA and a serving certificate for 127.0.0.1/localhost into a temporary folder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../../certs/pki.ts';

export interface TestTls {
  dir: string;
  ca: CertificateAuthority;
  certFile: string;
  keyFile: string;
  rotate(): Promise<void>;
  remove(): void;
}

export async function testTls(): Promise<TestTls> {
  const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-tls-'));
  const ca = await createCertificateAuthority('exposedapi-apim test CA');
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const issue = async () => {
    const leaf = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    writeFileSync(keyFile, leaf.keyPem);
    writeFileSync(certFile, leaf.certPem);
  };
  await issue();
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  return { dir, ca, certFile, keyFile, rotate: issue, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
