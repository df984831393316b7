// Shared set-up for the emulator tests: an emulator started in-process in its own temporary directory, the real
// @azure/identity credential and @azure/arm-apimanagement client pointed at it, the SDK's own mappers to check
// response shapes, and the REST spec examples from ../shared/reference.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientSecretCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import type { ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { createSerializer } from '@azure/core-client';
import type { CompositeMapper, Mapper } from '@azure/core-client';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { ApimEmulator, ApimEmulatorOptions } from '../../emulator/apim-emulator.ts';
import { startApimEmulator } from '../../emulator/apim-emulator.ts';

/** ../shared/reference relative to the repository (never copied into it). */
export const REFERENCE = new URL('../../../shared/reference/', import.meta.url);

export async function readReference(path: string): Promise<string> {
  return readFile(new URL(path, REFERENCE), 'utf8');
}

export interface RestExample {
  parameters: Record<string, unknown> & { parameters?: { properties?: Record<string, unknown> } };
  responses: Record<string, { headers?: Record<string, string>; body?: Record<string, unknown> }>;
}

export async function example(name: string): Promise<RestExample> {
  return JSON.parse(await readReference(`apim/examples/${name}.json`)) as RestExample;
}

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Client options for tests: the emulator's CA, and quick exponential retries (Retry-After is still honoured). */
export function clientOptions(emu: ApimEmulator): ApiManagementClientOptionalParams {
  return {
    endpoint: emu.url,
    tlsOptions: { ca: emu.caPem },
    retryOptions: { retryDelayInMs: 20, maxRetryDelayInMs: 200 },
  };
}

export interface Harness {
  emu: ApimEmulator;
  credential: TokenCredential;
  client: ApiManagementClient;
  rg: string;
  svc: string;
  dir: string;
  /** LRO options that poll quickly (the SDK polls every 2 s by default when no Retry-After is sent). */
  lro: { updateIntervalInMs: number };
  /** A request through the SDK client's own pipeline (token, TLS, retries) for what the typed methods cannot send. */
  raw(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RawResponse>;
  /** `/subscriptions/…/service/{name}` + suffix. */
  servicePath(suffix?: string): string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
}

export async function tempDir(t: Teardown, prefix = 'apim-emulator-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function startHarness(t: Teardown, options: ApimEmulatorOptions = {}): Promise<Harness> {
  const dir = options.dir ?? (await tempDir(t));
  const emu = await startApimEmulator({ importDelayMs: 30, ...options, dir });
  t.teardown(() => emu.close());
  const credential = new ClientSecretCredential(emu.tenantId, emu.clientId, emu.clientSecret, {
    authorityHost: emu.authorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: emu.caPem },
  } as ConstructorParameters<typeof ClientSecretCredential>[3]);
  const client = new ApiManagementClient(credential, emu.subscriptionId, clientOptions(emu));
  const servicePath = (suffix = ''): string =>
    `/subscriptions/${emu.subscriptionId}/resourceGroups/${emu.resourceGroup}/providers/Microsoft.ApiManagement/service/${emu.serviceName}${suffix}`;
  const raw = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> => {
    const url = path.startsWith('https://') ? path : `${emu.url}${path}`;
    const request = createPipelineRequest({
      url,
      method: method as 'GET',
      headers: createHttpHeaders({ accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }),
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const res = await client.sendRequest(request);
    const text = res.bodyAsText ?? '';
    return { status: res.status, headers: res.headers.toJSON(), body: text === '' ? undefined : JSON.parse(text) };
  };
  return { emu, credential, client, rg: emu.resourceGroup, svc: emu.serviceName, dir, lro: { updateIntervalInMs: 10 }, raw, servicePath };
}

// The SDK's mappers are not in the package's export map; they sit next to its entry point.
const entry = import.meta.resolve('@azure/arm-apimanagement');
const mappersModule = (await import(new URL('./models/mappers.js', entry).href)) as Record<string, Mapper>;
const serializer = createSerializer(mappersModule, false);

function modelProperties(mapper: Mapper): Record<string, Mapper> {
  const composite = mapper as CompositeMapper;
  if (composite.type.name !== 'Composite') return {};
  let props = composite.type.modelProperties;
  if (!props && composite.type.className) props = (mappersModule[composite.type.className] as CompositeMapper | undefined)?.type.modelProperties;
  return props ?? {};
}

function readPath(value: Record<string, unknown>, serializedName: string): unknown {
  // "properties.displayName" is a flattened path; "\\." escapes a literal dot.
  const parts = serializedName.split(/(?<!\\)\./).map((p) => p.replace(/\\\./g, '.'));
  let cur: unknown = value;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Required properties (per the SDK's mappers) missing anywhere in a response body. */
export function missingRequired(mapper: Mapper, value: unknown, at = '$'): string[] {
  const out: string[] = [];
  if (value === null || value === undefined) return out;
  const type = mapper.type.name;
  if (type === 'Composite') {
    for (const [name, prop] of Object.entries(modelProperties(mapper))) {
      const v = readPath(value as Record<string, unknown>, prop.serializedName ?? name);
      if (prop.required && !prop.readOnly && (v === undefined || (v === null && !prop.nullable))) out.push(`${at}.${prop.serializedName ?? name}`);
      if (v !== undefined && v !== null) out.push(...missingRequired(prop, v, `${at}.${prop.serializedName ?? name}`));
    }
  } else if (type === 'Sequence' && Array.isArray(value)) {
    const element = (mapper.type as { element: Mapper }).element;
    value.forEach((v, i) => out.push(...missingRequired(element, v, `${at}[${i}]`)));
  } else if (type === 'Dictionary' && typeof value === 'object') {
    const element = (mapper.type as { value: Mapper }).value;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out.push(...missingRequired(element, v, `${at}.${k}`));
  }
  return out;
}

/** Deserializes a response body with the SDK's mapper (throws on a type mismatch) and lists missing required props. */
export function deserialize(mapperName: string, body: unknown): { value: any; missing: string[] } {
  const mapper = mappersModule[mapperName];
  if (!mapper) throw new Error(`no SDK mapper ${mapperName}`);
  const value = serializer.deserialize(mapper, body, 'body');
  return { value, missing: missingRequired(mapper, body) };
}

export function here(file: string): string {
  return fileURLToPath(new URL(file, import.meta.url));
}

/**
 * Polls until fn() is truthy or the bound is hit (bounded loop: tests never hang). The bound is generous: a loaded
 * machine is slow, and a bound costs nothing when it is not reached.
 */
export async function until<T>(fn: () => T | Promise<T>, { timeoutMs = 30_000, everyMs = 10 } = {}): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ArmFailure {
  statusCode: number | undefined;
  code: string | undefined;
  message: string;
  /** The error body as sent: {error: {code, message, details}}. */
  body: { error: { code: string; message: string; details: { code: string; target: string | null; message: string }[] | null } } | undefined;
}

/** Awaits an SDK call expected to fail and returns the RestError's status, code and the body the emulator sent. */
export async function failure(p: Promise<unknown>): Promise<ArmFailure> {
  try {
    await p;
  } catch (err) {
    const e = err as { statusCode?: number; code?: string; message: string; response?: { bodyAsText?: string | null } };
    const text = e.response?.bodyAsText;
    return { statusCode: e.statusCode, code: e.code, message: e.message, body: text ? JSON.parse(text) : undefined };
  }
  throw new Error('expected the call to fail');
}

/** A REST example's request body (wire form, `properties` nested) as the SDK's flattened parameter model. */
export function fromWire<T>(mapperName: string, body: unknown): T {
  return deserialize(mapperName, body).value as T;
}
