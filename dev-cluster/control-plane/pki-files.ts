// The control plane's PKI, written as files for the binaries' flags: one CA signs the apiserver's serving certificate
// and every client certificate (admin, controller-manager), plus a separate key pair that signs and verifies
// ServiceAccount tokens. ECDSA P-256 from certs/pki.ts: generating everything takes milliseconds.
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority, createKeyPair, issueCertificate } from '../../certs/pki.ts';

export interface PkiFiles {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
  /** PEM contents that go into kubeconfigs. */
  caPem: string;
  admin: { certPem: string; keyPem: string };
  controllerManager: { certPem: string; keyPem: string };
}

/** The first address of --service-cluster-ip-range: the `kubernetes` Service's ClusterIP, a SAN in real clusters. */
export const KUBERNETES_SERVICE_IP = '10.0.0.1';

export async function writePki(dir: string): Promise<PkiFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority('exposedapi-apim test control plane CA');
  const [apiserver, admin, controllerManager, sa] = await Promise.all([
    issueCertificate(ca, {
      commonName: 'kube-apiserver',
      usage: 'server',
      // In-cluster clients of the node agent connect to KUBERNETES_SERVICE_HOST=127.0.0.1.
      ipAddresses: ['127.0.0.1', KUBERNETES_SERVICE_IP],
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    }),
    // O=system:masters is the group RBAC bootstraps as cluster-admin: tests and harness plumbing only; components under
    // test get ServiceAccount tokens instead (tokenFor).
    issueCertificate(ca, { commonName: 'exposedapi-apim-test-admin', organizations: ['system:masters'], usage: 'client' }),
    // The identity the bootstrap RBAC policy grants to kube-controller-manager; with --use-service-account-credentials
    // it only needs to mint tokens for each controller's own ServiceAccount in kube-system.
    issueCertificate(ca, { commonName: 'system:kube-controller-manager', usage: 'client' }),
    createKeyPair(),
  ]);
  const files: PkiFiles = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    serviceAccountPublicKey: join(dir, 'sa.pub'),
    serviceAccountPrivateKey: join(dir, 'sa.key'),
    caPem: ca.certPem,
    admin,
    controllerManager,
  };
  await Promise.all([
    writeFile(files.caCert, ca.certPem),
    writeFile(files.caKey, ca.keyPem, { mode: 0o600 }),
    writeFile(files.apiserverCert, apiserver.certPem),
    writeFile(files.apiserverKey, apiserver.keyPem, { mode: 0o600 }),
    writeFile(files.serviceAccountPublicKey, sa.publicKeyPem),
    writeFile(files.serviceAccountPrivateKey, sa.privateKeyPem, { mode: 0o600 }),
    writeFile(join(dir, 'admin.crt'), admin.certPem),
    writeFile(join(dir, 'admin.key'), admin.keyPem, { mode: 0o600 }),
  ]);
  return files;
}
