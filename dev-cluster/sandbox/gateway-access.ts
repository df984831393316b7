// The sandbox's status URLs, made to work: the executor writes ExposedAPI status URLs from the APIM gateway URL, and in
// the sandbox that is the APIM emulator's gateway (emulator/gateway/), which serves the published APIs with their
// policies and forwards to the sample backend. So `curl` on a printed URL returns what the backend answers, through
// the policies the ExposedAPI asked for. Node agent only: on a real node the chart's values decide.
import type { SampleBackend } from './sample-backend.ts';

type Obj = Record<string, any>;

/**
 * Operator settings for the sandbox: status URLs on the emulator's gateway, and routes whose backend URL is the sample
 * backend (ROUTE_BASE_URL + the API's path), since no ingress controller answers on the routes' addresses here.
 */
export function gatewaySettings(emulator: { gatewayUrl: string }, backend: Pick<SampleBackend, 'url'>): Record<string, string> {
  return { APIM_GATEWAY_URL: emulator.gatewayUrl, ROUTE_BASE_URL: backend.url };
}

/**
 * One `curl` per published ExposedAPI that returns data: its status URL plus the first GET operation without
 * parameters of its APIM API (e.g. TMF620's /catalog), trusting the emulator's CA.
 */
export function gatewayCurls(exposedApis: Obj[], emulatorApis: Obj[], caFile: string): string[] {
  const lines: string[] = [];
  for (const obj of exposedApis) {
    const url = obj['status']?.['apiStatus']?.['url'];
    const apiId = obj['status']?.['apim']?.['apiId'];
    const api = emulatorApis.find((a) => a['name'] === apiId);
    if (typeof url !== 'string' || !api) continue;
    const get = (api['operations'] ?? []).find((o: Obj) => o['properties']?.['method'] === 'GET' && !String(o['properties']?.['urlTemplate']).includes('{'));
    if (!get) continue;
    const headers = api['properties']?.['subscriptionRequired'] ? ' -H "Ocp-Apim-Subscription-Key: <key from a subscription>"' : '';
    lines.push(`  curl --cacert ${caFile}${headers} ${url}${get['properties']['urlTemplate']}`);
  }
  return lines.length > 0 ? ['', 'Call an API through the gateway (the emulator enforces its policies):', ...lines] : [];
}
