// The check a new revision passes before a release makes it current (docs/revisions.md): APIM holds as many
// operations as the document declares (an import that dropped some would otherwise go live), the policy reads back
// as it was rendered, and — when APIM_GATEWAY_URL names the gateway — the gateway routes the revision's own URL
// (`<path>;rev=<n>/…`, https://learn.microsoft.com/azure/api-management/api-management-revisions). Reads only: a failed
// check leaves the current revision serving and the failed one in place for inspection.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Apim } from './apim-client.ts';
import { readPolicy } from './apim-sync.ts';
import { samePolicy } from './policy-compare.ts';
import { retriable } from './step-failure.ts';

export interface RevisionCheck {
  apim: Apim;
  /** `<apiId>;rev=<n>`. */
  revisionId: string;
  revision: number;
  /** Operations the document declares; undefined (a linked document) skips the count. */
  operations?: number;
  /** The policy as rendered (core/policy-xml.ts). */
  xml: string;
  /** APIM_GATEWAY_URL without a trailing slash; undefined skips the gateway probe. */
  gatewayUrl?: string;
  /** The API's path in APIM (no leading slash). */
  path: string;
  /**
   * The revision's version in its version set and how the set's scheme names it: the version comes first, then
   * `;rev=<n>` ("Append ;rev={revisionNumber} at the end of your API URL, but before the query string"), so under
   * Segment the URL is `<path>/<version>;rev=<n>/…`, under Query and Header `<path>;rev=<n>/…` with the version in
   * the query or a header (https://learn.microsoft.com/azure/api-management/api-management-versions).
   */
  version?: RevisionVersion;
  /** The probe's timeout. */
  timeoutMs?: number;
}

export interface RevisionVersion {
  scheme: string;
  value: string;
  queryName?: string;
  headerName?: string;
}

/** The URL that reaches revision `revision` of the API at `path` (version first, then `;rev=`), and its headers. */
export function revisionUrl(gatewayUrl: string, path: string, revision: number, probe: string, v: RevisionVersion | undefined): { url: string; headers: Record<string, string> } {
  const segment = v?.scheme === 'Segment' && v.value !== '' ? v.value : '';
  const base = [path, segment].filter((p) => p !== '').join('/');
  const named = v !== undefined && v.value !== '';
  const query = named && v.scheme === 'Query' && v.queryName ? `?${encodeURIComponent(v.queryName)}=${encodeURIComponent(v.value)}` : '';
  const headers: Record<string, string> = named && v.scheme === 'Header' && v.headerName ? { [v.headerName]: v.value } : {};
  return { url: `${gatewayUrl}/${base};rev=${revision}${probe}${query}`, headers };
}

/** APIM's gateway answer when no API or operation matches (emulator/gateway/gateway-errors.ts has the same body). */
const GATEWAY_NOT_FOUND = /"message"\s*:\s*"Resource not found"/;

/** What is wrong with the revision; empty when it may be made current. */
export async function checkRevision(c: RevisionCheck): Promise<string[]> {
  const { apim } = c;
  const problems: string[] = [];
  const operations = await apim.call(`listing the operations of API '${c.revisionId}'`, () => apim.client.listApiOperations(c.revisionId));
  if (c.operations !== undefined && operations.length !== c.operations) {
    problems.push(`APIM holds ${operations.length} operations in it, the document declares ${c.operations}`);
  }
  const stored = await readPolicy(apim, c.revisionId);
  if (!samePolicy(stored, c.xml)) problems.push('its policy does not read back as it was written');
  if (c.gatewayUrl !== undefined) {
    const probe = probeTarget(operations);
    if (probe === undefined) {
      apim.log.info('revision check: no GET operation without parameters to call through the gateway; the gateway probe is skipped', { revision: c.revisionId });
    } else {
      const { url, headers } = revisionUrl(c.gatewayUrl, c.path, c.revision, probe, c.version);
      const answer = await apim.call(`calling revision ${c.revision} through the gateway (${url})`, () => probeGateway(url, headers, c.timeoutMs ?? 10_000));
      if (answer.status === 404 && GATEWAY_NOT_FOUND.test(answer.body)) problems.push(`the gateway answered 404 "Resource not found" at ${url}`);
      else apim.log.info('revision check: the gateway routes the revision', { url, status: answer.status });
    }
  }
  return problems;
}

/** A GET operation whose URL template has no parameters (a wildcard `/*` calls its root): safe to call. */
export function probeTarget(operations: readonly Record<string, unknown>[]): string | undefined {
  for (const op of operations) {
    const method = op['method'];
    const urlTemplate = op['urlTemplate'];
    if (typeof method !== 'string' || method.toUpperCase() !== 'GET' || typeof urlTemplate !== 'string') continue;
    const template = urlTemplate.split('?')[0]!;
    if (template.includes('{')) continue;
    const path = template.replace(/\/\*$/, '/').replace(/\*/g, '');
    return path.startsWith('/') ? path : `/${path}`;
  }
  return undefined;
}

/** One GET; the status and at most 4 kB of the body. A connection that fails is retriable (the gateway may be busy). */
function probeGateway(url: string, extraHeaders: Record<string, string>, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers: { ...extraHeaders, accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => reject(retriable('GatewayUnreachable', `the gateway's answer at ${url} broke off: ${e.message}`)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(retriable('GatewayUnreachable', `the gateway at ${url} could not be reached: ${e.message}; check APIM_GATEWAY_URL`)));
    req.end();
  });
}
