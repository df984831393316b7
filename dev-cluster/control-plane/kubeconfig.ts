// kubeconfig files with the credentials embedded (the *-data fields), so a kubeconfig stays valid on its own and
// kubectl, @kubernetes/client-node and the controller-manager all read the same file format.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigCredentials {
  server: string;
  caPem: string;
  user: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  namespace?: string;
}

export const CONTEXT_NAME = 'exposedapi-apim-test';

export function renderKubeconfig(c: KubeconfigCredentials): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const user: Record<string, string> = {};
  if (c.clientCertPem !== undefined) user['client-certificate-data'] = b64(c.clientCertPem);
  if (c.clientKeyPem !== undefined) user['client-key-data'] = b64(c.clientKeyPem);
  if (c.token !== undefined) user['token'] = c.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT_NAME, cluster: { server: c.server, 'certificate-authority-data': b64(c.caPem) } }],
    users: [{ name: c.user, user }],
    contexts: [{ name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user: c.user, ...(c.namespace ? { namespace: c.namespace } : {}) } }],
    'current-context': CONTEXT_NAME,
    preferences: {},
  });
}

export async function writeKubeconfig(path: string, c: KubeconfigCredentials): Promise<void> {
  await writeFile(path, renderKubeconfig(c), { mode: 0o600 });
}
