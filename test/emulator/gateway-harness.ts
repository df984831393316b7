// Shared set-up for the gateway tests: the emulator in-process (harness.ts), a local backend that echoes what it
// received, requests to the gateway over real HTTPS (trusting the emulator's CA), APIs imported through the SDK and
// policies rendered by core/policy-xml.ts from ExposedAPI objects.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readExposedApi, type JwtSettings } from '../../core/exposedapi-model.ts';
import { renderPolicyXml } from '../../core/policy-xml.ts';
import type { ApimEmulatorOptions } from '../../emulator/apim-emulator.ts';
import { exposedApi } from '../helpers/fixtures.ts';
import type { Harness, Teardown } from './harness.ts';
import { startHarness } from './harness.ts';

export interface GatewayHarness extends Harness {
  /** A request to the gateway; `path` is below the gateway's URL. */
  call(path: string, o?: CallOptions): Promise<GatewayResponse>;
  /** Imports an OpenAPI/Swagger document (object or text) as an API through the SDK, waiting for the import. */
  importApi(apiId: string, o: { path: string; document: unknown; serviceUrl: string; format?: string; subscriptionRequired?: boolean }): Promise<void>;
  /** Writes an API's policy through the SDK. */
  putPolicy(apiId: string, xml: string): Promise<void>;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface GatewayResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): any;
}

export async function startGatewayHarness(t: Teardown, options: ApimEmulatorOptions = {}): Promise<GatewayHarness> {
  const h = await startHarness(t, options);
  const agent = new https.Agent({ keepAlive: true, ca: h.emu.caPem });
  t.teardown(() => agent.destroy());
  const call = (path: string, o: CallOptions = {}): Promise<GatewayResponse> =>
    new Promise((resolve, reject) => {
      const req = https.request(`${h.emu.gatewayUrl}${path}`, { method: o.method ?? 'GET', headers: o.headers ?? {}, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(o.body);
    });
  const importApi: GatewayHarness['importApi'] = async (apiId, o) => {
    const value = typeof o.document === 'string' ? o.document : JSON.stringify(o.document);
    const format = o.format ?? (typeof o.document === 'object' && (o.document as Record<string, unknown>)['swagger'] ? 'swagger-json' : 'openapi+json');
    await h.client.api.beginCreateOrUpdateAndWait(h.rg, h.svc, apiId, { path: o.path, format, value, serviceUrl: o.serviceUrl, subscriptionRequired: o.subscriptionRequired ?? false, protocols: ['https'] }, h.lro);
  };
  const putPolicy: GatewayHarness['putPolicy'] = async (apiId, xml) => {
    await h.client.apiPolicy.createOrUpdate(h.rg, h.svc, apiId, 'policy', { value: xml, format: 'xml' });
  };
  return { ...h, call, importApi, putPolicy };
}

/** The API policy the executor would write for an ExposedAPI (the fixture deep-merged with `spec`). */
export function renderedPolicy(spec: Record<string, unknown>, apiId: string, o: { jwt?: JwtSettings; quotaRenewalPeriodSeconds?: number; validateContentMaxSize?: number } = {}): string {
  const { model, errors } = readExposedApi(exposedApi({ spec }));
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  return renderPolicyXml({
    spec: model.spec,
    apiId,
    ...(o.jwt ? { jwt: o.jwt } : {}),
    quotaRenewalPeriodSeconds: o.quotaRenewalPeriodSeconds ?? 86400,
    ...(o.validateContentMaxSize !== undefined ? { validateContentMaxSize: o.validateContentMaxSize } : {}),
    documentValidation: true,
  });
}

export interface Backend {
  url: string;
  /** Requests received, in order. */
  received: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

export type BackendHandler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;

/** A loopback HTTP backend; by default it answers 200 with JSON describing the request. */
export async function startBackend(t: Teardown, handler?: BackendHandler): Promise<Backend> {
  const received: Backend['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
      if (handler) return handler(req, body, res);
      const payload = JSON.stringify({ method: req.method, url: req.url, body: body.toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  t.teardown(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close };
}

/** A small OpenAPI 3 document: GET/POST /items (POST takes an Item), GET /items/{id}. */
export function itemsDocument(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: { title: 'Items', version: '1.0' },
    paths: {
      '/items': {
        get: { operationId: 'listItems', responses: { '200': { description: 'ok', content: { 'application/json': { schema: { type: 'object' } } } } } },
        post: {
          operationId: 'createItem',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
          responses: { '200': { description: 'ok' } },
        },
      },
      '/items/{id}': {
        get: { operationId: 'getItem', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } },
      },
    },
    components: { schemas: { Item: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
  };
}
