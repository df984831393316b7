// The sandbox's sample implementation: a local HTTP server that serves TM Forum OpenAPI documents (the
// specification URLs of the examples) and answers API calls, published in the cluster as a Service whose
// EndpointSlice points at it, so readiness, routes and imports have something real behind them.
import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { statusCode } from '../../core/kube/errors.ts';
import { tmfAnswers } from './tmf-answers.ts';

/** TM Forum documents the examples reference, with their public source for machines without the shared folder. */
export const SAMPLE_DOCUMENTS: Record<string, string> = {
  'TMF620-ProductCatalog-v4.0.0.swagger.json': 'https://raw.githubusercontent.com/tmforum-apis/TMF620_ProductCatalog/master/TMF620-ProductCatalog-v4.0.0.swagger.json',
  'TMF672-UserRolePermission-v4.0.0.swagger.json': 'https://raw.githubusercontent.com/tmforum-apis/TMF672_UserRolesPermissions/master/TMF672-UserRolePermission-v4.0.0.swagger.json',
  'TMF620-Product_Catalog_Management-v5.0.0.oas.yaml': 'https://raw.githubusercontent.com/tmforum-apis/TMF620_ProductCatalog/master/TMF620-Product_Catalog_Management-v5.0.0.oas.yaml',
};

export interface SampleBackend {
  /** http://<address>:<port>; the examples' ${SANDBOX_SPEC_BASE}. */
  url: string;
  address: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Where the reference documents may be: SANDBOX_SPECS_DIR, then `shared/reference/specs/` beside the checkout or
 * beside any folder above it (CI and the dev machines put `shared/` next to the clone, wherever that is).
 */
export function referenceDirs(env: NodeJS.ProcessEnv = process.env, from = fileURLToPath(new URL('../../', import.meta.url))): string[] {
  const dirs: string[] = [];
  if (env['SANDBOX_SPECS_DIR']) dirs.push(resolve(env['SANDBOX_SPECS_DIR']));
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    dirs.push(join(dir, 'shared', 'reference', 'specs'));
    if (dirname(dir) === dir) return dirs;
  }
}

/** The document from the first folder that holds it, or the folders looked in. */
export function findReferenceDocument(file: string, dirs: string[]): { text: string; path: string } | { looked: string[] } {
  for (const dir of dirs) {
    const path = join(dir, file);
    if (existsSync(path)) return { text: readFileSync(path, 'utf8'), path };
  }
  return { looked: dirs };
}

async function loadDocument(file: string): Promise<string> {
  const found = findReferenceDocument(file, referenceDirs());
  if ('text' in found) return found.text;
  const url = SAMPLE_DOCUMENTS[file]!;
  const notHere = `${file} is not in ${found.looked.join(', ')}${process.env['SANDBOX_SPECS_DIR'] ? '' : ' (SANDBOX_SPECS_DIR is not set)'}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new Error(`${notHere}, and GET ${url} failed (${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}): set SANDBOX_SPECS_DIR to a folder holding it`);
  }
  if (!res.ok) throw new Error(`${notHere}, and GET ${url} answered ${res.status}: set SANDBOX_SPECS_DIR to a folder holding it`);
  return res.text();
}

/**
 * `address`: where to listen, and what the EndpointSlice names, so never loopback (refused there) and never the
 * machine's interface address: the run's own address (run-address.ts), or with a real node the pod network's gateway.
 */
export async function startSampleBackend(options: { address: string }): Promise<SampleBackend> {
  const documents = new Map<string, string>();
  for (const file of Object.keys(SAMPLE_DOCUMENTS)) documents.set(file, await loadDocument(file));
  const address = options.address;
  const answers = tmfAnswers([...documents.values()]);
  const server = http.createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.replace(/^\/+/, '');
    const doc = documents.get(name);
    if (doc) {
      req.resume();
      res.writeHead(200, { 'content-type': name.endsWith('.yaml') ? 'application/yaml' : 'application/json', etag: `"${doc.length}"` }).end(doc);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // A path of a served TM Forum API: a resource of that API (tmf-answers.ts), so calls through the gateway return
      // data of the API's shape. Any other path: a small answer naming the backend, so it is seen to be live.
      const tmf = answers.answer(req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString('utf8'));
      if (tmf) {
        if (tmf.body === undefined) res.writeHead(tmf.status).end();
        else res.writeHead(tmf.status, { 'content-type': 'application/json;charset=utf-8' }).end(JSON.stringify(tmf.body));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: 'exposedapi-apim sandbox', path: req.url }));
    });
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
  await core.createNamespacedService({ namespace, body: service as never }).catch(async (e: unknown) => {
    if (statusCode(e) !== 409) throw e;
  });
  const slice = {
    metadata: { name: `${name}-sandbox`, namespace, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'exposedapi-apim-sandbox' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [backend.address], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }],
  };
  await discovery.createNamespacedEndpointSlice({ namespace, body: slice as never }).catch(async (e: unknown) => {
    if (statusCode(e) !== 409) throw e;
    await discovery.replaceNamespacedEndpointSlice({ name: slice.metadata.name, namespace, body: slice as never });
  });
}
