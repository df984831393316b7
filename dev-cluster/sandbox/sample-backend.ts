// The sandbox's sample implementation: a local HTTP server that serves TM Forum OpenAPI documents (the
// specification URLs of the examples) and answers API calls, published in the cluster as a Service whose
// EndpointSlice points at it, so readiness, routes and imports have something real behind them.
import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** TM Forum documents the examples reference, with their public source for machines without the shared folder. */
export const SAMPLE_DOCUMENTS: Record<string, string> = {
  'TMF620-ProductCatalog-v4.0.0.swagger.json': 'https://raw.githubusercontent.com/tmforum-apis/TMF620_ProductCatalog/master/TMF620-ProductCatalog-v4.0.0.swagger.json',
  'TMF672-UserRolePermission-v4.0.0.swagger.json': 'https://raw.githubusercontent.com/tmforum-apis/TMF672_UserRolesPermissions/master/TMF672-UserRolePermission-v4.0.0.swagger.json',
};

export interface SampleBackend {
  /** http://<host address>:<port>; the examples' ${SANDBOX_SPEC_BASE}. */
  url: string;
  address: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The address pods and the APIM emulator reach us on. EndpointSlices refuse loopback addresses, so the first
 * non-internal IPv4 address of this machine is used when there is one.
 */
export function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

async function loadDocument(file: string): Promise<string> {
  const dirs = [process.env['SANDBOX_SPECS_DIR'], fileURLToPath(new URL('../../../shared/reference/specs/', import.meta.url))].filter((d): d is string => !!d);
  for (const dir of dirs) if (existsSync(join(dir, file))) return readFileSync(join(dir, file), 'utf8');
  const res = await fetch(SAMPLE_DOCUMENTS[file]!, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new Error(`could not get ${file}: set SANDBOX_SPECS_DIR to a folder holding it (GET ${SAMPLE_DOCUMENTS[file]} answered ${res.status})`);
  return res.text();
}

export async function startSampleBackend(): Promise<SampleBackend> {
  const documents = new Map<string, string>();
  for (const file of Object.keys(SAMPLE_DOCUMENTS)) documents.set(file, await loadDocument(file));
  const address = hostAddress();
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.replace(/^\/+/, '');
    const doc = documents.get(name);
    if (doc) {
      res.writeHead(200, { 'content-type': 'application/json', etag: `"${doc.length}"` }).end(doc);
      return;
    }
    // Any other path: a tiny TM Forum-like answer, so calls through a gateway would see a live backend.
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: 'exposedapi-apim sandbox', path: req.url }));
  });
  await new Promise<void>((r) => server.listen(0, address, r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${address}:${port}`,
    address,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The Service (and its EndpointSlice, maintained by us since no pod backs it) that ExposedAPIs name as implementation. */
export async function publishBackendService(kc: KubeConfig, namespace: string, name: string, servicePort: number, backend: SampleBackend): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const service = {
    metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'exposedapi-apim-sandbox' } },
    spec: { ports: [{ name: 'http', port: servicePort, targetPort: backend.port as unknown as object, protocol: 'TCP' }] },
  };
  await core.createNamespacedService({ namespace, body: service as never }).catch(async (e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
  const slice = {
    metadata: { name: `${name}-sandbox`, namespace, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'exposedapi-apim-sandbox' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [backend.address], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }],
  };
  await discovery.createNamespacedEndpointSlice({ namespace, body: slice as never }).catch(async (e: { code?: number }) => {
    if (e.code !== 409) throw e;
    await discovery.replaceNamespacedEndpointSlice({ name: slice.metadata.name, namespace, body: slice as never });
  });
}
