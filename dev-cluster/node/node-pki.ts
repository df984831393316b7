// Certificates of the real node's components, issued by the control plane's CA (so the apiserver trusts them with its
// --client-ca-file, and they trust the apiserver): kubelet's client identity system:node:localhost in system:nodes (the
// Node authorizer and NodeRestriction limit it to its own node), kubelet's serving certificate for "localhost" (the
// address the apiserver dials for logs and exec), the apiserver's client certificate towards kubelet, and the
// identities the bootstrap RBAC policy already binds for kube-proxy and kube-scheduler.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCertificate, loadCertificateAuthority, type IssuedCertificate } from '../../certs/pki.ts';
import { NODE_NAME } from './node-config.ts';

/** The user the apiserver presents to kubelet; bound to the system:kubelet-api-admin ClusterRole by the node. */
export const APISERVER_KUBELET_CLIENT = 'exposedapi-apim:apiserver-kubelet-client';

export interface NodePki {
  caCert: string;
  caPem: string;
  kubeletClient: IssuedCertificate;
  kubeletServingCert: string;
  kubeletServingKey: string;
  apiserverKubeletClientCert: string;
  apiserverKubeletClientKey: string;
  kubeProxy: IssuedCertificate;
  scheduler: IssuedCertificate;
}

export async function writeNodePki(dir: string, ca: { certFile: string; keyFile: string }): Promise<NodePki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caPem = await readFile(ca.certFile, 'utf8');
  const authority = await loadCertificateAuthority(caPem, await readFile(ca.keyFile, 'utf8'));
  const [kubeletClient, kubeletServing, apiserverClient, kubeProxy, scheduler] = await Promise.all([
    issueCertificate(authority, { commonName: `system:node:${NODE_NAME}`, organizations: ['system:nodes'], usage: 'client' }),
    issueCertificate(authority, { commonName: `system:node:${NODE_NAME}`, dnsNames: [NODE_NAME], ipAddresses: ['127.0.0.1'], usage: 'server' }),
    issueCertificate(authority, { commonName: APISERVER_KUBELET_CLIENT, usage: 'client' }),
    issueCertificate(authority, { commonName: 'system:kube-proxy', usage: 'client' }),
    issueCertificate(authority, { commonName: 'system:kube-scheduler', usage: 'client' }),
  ]);
  const files = {
    kubeletServingCert: join(dir, 'kubelet-serving.crt'),
    kubeletServingKey: join(dir, 'kubelet-serving.key'),
    apiserverKubeletClientCert: join(dir, 'apiserver-kubelet-client.crt'),
    apiserverKubeletClientKey: join(dir, 'apiserver-kubelet-client.key'),
  };
  await Promise.all([
    writeFile(files.kubeletServingCert, kubeletServing.certPem),
    writeFile(files.kubeletServingKey, kubeletServing.keyPem, { mode: 0o600 }),
    writeFile(files.apiserverKubeletClientCert, apiserverClient.certPem),
    writeFile(files.apiserverKubeletClientKey, apiserverClient.keyPem, { mode: 0o600 }),
  ]);
  return { caCert: ca.certFile, caPem, kubeletClient, kubeProxy, scheduler, ...files };
}
