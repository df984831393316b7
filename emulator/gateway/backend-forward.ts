// forward-request: the request as the client sent it (after inbound policies), to the backend URL joined with the
// path below the API's path and the client's query string, over keep-alive connections. Hop-by-hop headers (RFC 9110
// §7.6.1) stay behind and Host names the backend. The response comes back as a stream; the pipeline decides whether
// to buffer it (outbound policies that read it) or to pipe it through.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { rootCertificates } from 'node:tls';

export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/** The backend URL of a request: base URL (its path kept) + the path below the API + the query. */
export function backendTarget(baseUrl: string, relativePath: string, search: string): URL {
  const base = new URL(baseUrl);
  const path = `${base.pathname.replace(/\/+$/, '')}${relativePath}`;
  return new URL(`${base.protocol}//${base.host}${path === '' ? '/' : path}${search}`);
}

export function forwardableHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connectionListed = String(headers['connection'] ?? '').split(',').map((h) => h.trim().toLowerCase());
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || connectionListed.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

export class BackendClient {
  readonly #http = new http.Agent({ keepAlive: true, maxSockets: 512 });
  readonly #https: https.Agent;

  /** `extraCa`: PEM certificates trusted besides the system roots (the emulator's CA, for TLS backends it issued). */
  constructor(extraCa: string[] = []) {
    this.#https = new https.Agent({ keepAlive: true, maxSockets: 512, ca: [...rootCertificates, ...extraCa] });
  }

  /**
   * Sends the request; `body` is the buffered body, or the client's stream to pipe. Resolves with the backend's
   * response (headers received), rejects when the backend cannot be reached.
   */
  send(target: URL, method: string, headers: IncomingHttpHeaders, body: Buffer | IncomingMessage): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const out = forwardableHeaders(headers);
      if (Buffer.isBuffer(body)) {
        delete out['content-length'];
        if (body.length > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH') out['content-length'] = String(body.length);
      } else if (headers['transfer-encoding'] !== undefined) {
        // The client's body arrives chunked; it leaves the same way.
        out['transfer-encoding'] = 'chunked';
      }
      const client = target.protocol === 'https:' ? https : http;
      const req = client.request(target, { method, headers: out, agent: target.protocol === 'https:' ? this.#https : this.#http }, resolve);
      req.on('error', reject);
      if (Buffer.isBuffer(body)) req.end(body);
      else body.pipe(req);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
