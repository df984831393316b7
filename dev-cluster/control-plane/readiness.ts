// Waits until the control plane can do what tests need, not merely until a port is open: the apiserver's /readyz
// (storage, RBAC bootstrap and the other post-start hooks), the `default` namespace, and the controller-manager's
// ServiceAccount controller having created `default/default` that TokenRequest can mint a token for. Requests use
// plain HTTPS with the admin client certificate because they start before the apiserver listens at all.
import { request } from 'node:https';

export interface AdminConnection {
  host: string;
  port: number;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface HttpResult {
  status: number;
  body: string;
}

export function adminRequest(conn: AdminConnection, method: string, path: string, body?: unknown): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: conn.host,
        port: conn.port,
        method,
        path,
        ca: conn.caPem,
        cert: conn.certPem,
        key: conn.keyPem,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after 5 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface ReadinessStep {
  name: string;
  ok: () => Promise<boolean>;
}

/**
 * Runs the steps in order, polling each until it passes; timings and the deadline count from `started`. `failed()` is checked between polls so a component that
 * crashed fails fast with its own explanation instead of a generic timeout.
 */
export async function waitForSteps(steps: ReadinessStep[], deadlineMs: number, failed: () => string | undefined,
  started = Date.now()): Promise<Record<string, number>> {
  const timings: Record<string, number> = {};
  for (const step of steps) {
    let lastError = '';
    for (;;) {
      const crash = failed();
      if (crash !== undefined) throw new Error(crash);
      try {
        if (await step.ok()) break;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() - started > deadlineMs) {
        throw new Error(`control plane not ready after ${deadlineMs} ms: step "${step.name}" never passed` +
          (lastError ? ` (last error: ${lastError})` : '') + '; see the component logs in the run directory');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    timings[step.name] = Date.now() - started;
  }
  return timings;
}

export function controlPlaneReadinessSteps(conn: AdminConnection): ReadinessStep[] {
  const is = (status: number) => async (method: string, path: string, body?: unknown): Promise<boolean> =>
    (await adminRequest(conn, method, path, body)).status === status;
  return [
    { name: 'apiserver /readyz', ok: () => is(200)('GET', '/readyz') },
    { name: 'namespace default', ok: () => is(200)('GET', '/api/v1/namespaces/default') },
    { name: 'serviceaccount default/default', ok: () => is(200)('GET', '/api/v1/namespaces/default/serviceaccounts/default') },
    {
      name: 'TokenRequest for default/default',
      ok: () => is(201)('POST', '/api/v1/namespaces/default/serviceaccounts/default/token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 600 },
      }),
    },
    // Published by the root-ca-certificate-publisher controller; every pod's projected token volume reads ca.crt from it.
    { name: 'configmap default/kube-root-ca.crt', ok: () => is(200)('GET', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt') },
    tokenControllerStep(conn),
  ];
}

/**
 * The serviceaccount-token controller signs with the controller-manager's --service-account-private-key-file, a key
 * the apiserver must also accept: prove the pair works by letting it fill in a (legacy) token Secret, then remove it.
 */
function tokenControllerStep(conn: AdminConnection): ReadinessStep {
  const path = '/api/v1/namespaces/default/secrets';
  const name = 'exposedapi-apim-readiness-token';
  let created = false;
  return {
    name: 'serviceaccount-token controller',
    ok: async () => {
      if (!created) {
        const res = await adminRequest(conn, 'POST', path, {
          apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
          metadata: { name, annotations: { 'kubernetes.io/service-account.name': 'default' } },
        });
        if (res.status !== 201 && res.status !== 409) return false;
        created = true;
      }
      const res = await adminRequest(conn, 'GET', `${path}/${name}`);
      const secret = res.status === 200 ? (JSON.parse(res.body) as { data?: { token?: string } }) : undefined;
      if (!secret?.data?.token) return false;
      const token = Buffer.from(secret.data.token, 'base64').toString();
      // The apiserver must accept what the controller signed.
      const review = await adminRequest(conn, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token },
      });
      const authenticated = review.status === 201 && (JSON.parse(review.body) as { status?: { authenticated?: boolean } }).status?.authenticated === true;
      if (!authenticated) throw new Error(`the apiserver rejects the token the controller-manager signed: ${review.body}`);
      await adminRequest(conn, 'DELETE', `${path}/${name}`);
      return true;
    },
  };
}
