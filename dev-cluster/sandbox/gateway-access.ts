// The sandbox's status URLs, made to work: the executor writes ExposedAPI status URLs from the APIM gateway URL, and in
// the sandbox that is the APIM emulator's gateway (emulator/gateway/), which serves the published APIs with their
// policies and forwards to the sample backend. So `curl` on a printed URL returns what the backend answers, through
// the policies the ExposedAPI asked for. Node agent only: on a real node the chart's values decide.
//
// With --gateway-host (e.g. `apim-emulator.azure-api.net`) the URLs keep the real service's form, and the sandbox
// makes that name resolve to the gateway without touching the machine's resolver: printed curls carry
// `--resolve <host>:<port>:<address>`, `<dir>/gateway-hosts` holds the hosts(5) line for tools that read a hosts file,
// and `<dir>/gateway-resolve.mjs` is a preload (`NODE_OPTIONS=--import=…`) that answers the name for any Node program
// the sandbox or its user starts (http, https and fetch all look names up through dns.lookup) — the ODA Canvas test
// kit runs on Node.
import { writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { join } from 'node:path';
import type { SampleBackend } from './sample-backend.ts';

type Obj = Record<string, any>;

/** The gateway's name as the sandbox resolves it: `host` (from --gateway-host) at `address`, on `port`. */
export interface GatewayName {
  host: string;
  address: string;
  port: number;
}

/** The name in a gateway URL made with --gateway-host, resolved to the address the emulator listens on. */
export function gatewayName(gatewayUrl: string, address: string): GatewayName {
  const u = new URL(gatewayUrl);
  return { host: u.hostname, address, port: Number(u.port || 443) };
}

/** curl's way to reach the name without a resolver: `--resolve host:port:address`. */
export function curlResolve(g: GatewayName): string {
  return `--resolve ${g.host}:${g.port}:${g.address.includes(':') ? `[${g.address}]` : g.address}`;
}

/** A lookup for in-process clients (http.request's `lookup` option): the gateway's name, else the system's. */
export function gatewayLookup(g: GatewayName, fallback: LookupFunction): LookupFunction {
  const family = g.address.includes(':') ? 6 : 4;
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (hostname.toLowerCase() !== g.host.toLowerCase()) return fallback(hostname, options as never, callback as never);
    process.nextTick(() => (options?.all ? callback(null, [{ address: g.address, family }]) : callback(null, g.address, family)));
  }) as LookupFunction;
}

/** The preload's source: dns.lookup (and dns.promises.lookup) answer the gateway's name, everything else as before. */
export function resolvePreload(g: GatewayName): string {
  const name = JSON.stringify(g.host.toLowerCase());
  const address = JSON.stringify(g.address);
  const family = g.address.includes(':') ? 6 : 4;
  return `// Written by the exposedapi-apim sandbox: ${g.host} resolves to the APIM emulator's gateway (${g.address}).
// NODE_OPTIONS=--import=<this file> node …
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
const NAME = ${name};
const ADDRESS = ${address};
const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (typeof options === 'number') options = { family: options };
  if (String(hostname).toLowerCase() !== NAME) return lookup.call(this, hostname, options, callback);
  process.nextTick(() => (options && options.all ? callback(null, [{ address: ADDRESS, family: ${family} }]) : callback(null, ADDRESS, ${family})));
};
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = function (hostname, options) {
  if (String(hostname).toLowerCase() !== NAME) return lookupPromise.call(this, hostname, options);
  return Promise.resolve(options && typeof options === 'object' && options.all ? [{ address: ADDRESS, family: ${family} }] : { address: ADDRESS, family: ${family} });
};
// ES modules importing { lookup } from 'node:dns' see the replacement too.
syncBuiltinESMExports();
`;
}

export interface GatewayResolution {
  name: GatewayName;
  /** hosts(5) line(s) for the name. */
  hostsFile: string;
  /** Node preload answering the name (NODE_OPTIONS=--import=<file>). */
  preloadFile: string;
}

/** Writes `<dir>/gateway-hosts` and `<dir>/gateway-resolve.mjs` for the name. */
export function writeGatewayResolution(dir: string, g: GatewayName): GatewayResolution {
  const hostsFile = join(dir, 'gateway-hosts');
  const preloadFile = join(dir, 'gateway-resolve.mjs');
  writeFileSync(hostsFile, `${g.address} ${g.host}\n`);
  writeFileSync(preloadFile, resolvePreload(g));
  return { name: g, hostsFile, preloadFile };
}

/**
 * Operator settings for the sandbox: status URLs on the emulator's gateway, and routes whose backend URL is the sample
 * backend (ROUTE_BASE_URL + the API's path), since no ingress controller answers on the routes' addresses here.
 */
export function gatewaySettings(emulator: { gatewayUrl: string }, backend: Pick<SampleBackend, 'url'>): Record<string, string> {
  return { APIM_GATEWAY_URL: emulator.gatewayUrl, ROUTE_BASE_URL: backend.url };
}

/**
 * One `curl` per published ExposedAPI that returns data: its status URL plus the first GET operation without
 * parameters of its APIM API (e.g. TMF620's /catalog), trusting the emulator's CA; with a gateway name, how to
 * resolve it.
 */
export function gatewayCurls(exposedApis: Obj[], emulatorApis: Obj[], caFile: string, resolution?: GatewayResolution): string[] {
  const lines: string[] = [];
  const resolve = resolution ? ` ${curlResolve(resolution.name)}` : '';
  for (const obj of exposedApis) {
    const url = obj['status']?.['apiStatus']?.['url'];
    const apiId = obj['status']?.['apim']?.['apiId'];
    const api = emulatorApis.find((a) => a['name'] === apiId);
    if (typeof url !== 'string' || !api) continue;
    const get = (api['operations'] ?? []).find((o: Obj) => o['properties']?.['method'] === 'GET' && !String(o['properties']?.['urlTemplate']).includes('{'));
    if (!get) continue;
    const headers = api['properties']?.['subscriptionRequired'] ? ' -H "Ocp-Apim-Subscription-Key: <key from a subscription>"' : '';
    lines.push(`  curl --cacert ${caFile}${resolve}${headers} ${url}${get['properties']['urlTemplate']}`);
  }
  if (lines.length === 0) return [];
  const out = ['', 'Call an API through the gateway (the emulator enforces its policies):', ...lines];
  if (resolution) {
    out.push(
      `${resolution.name.host} resolves to the gateway for curl with the --resolve above; for Node programs (e.g. the ODA Canvas test kit):`,
      `  export NODE_OPTIONS=--import=${resolution.preloadFile}`,
      `and for other tools, add ${resolution.hostsFile} to /etc/hosts (${resolution.name.address} ${resolution.name.host}).`,
    );
  }
  return out;
}
