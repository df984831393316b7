// forward-request: the request as the client sent it (after inbound policies), to the backend URL joined with the
// path below the API's path and the client's query string, over keep-alive connections. Hop-by-hop headers (RFC 9110
// §7.6.1) stay behind and Host names the backend. The response comes back as a stream; the pipeline decides whether
// to buffer it (outbound policies that read it) or to pipe it through.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { rootCertificates } from 'node:tls';

export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

export interface BackendTarget {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** The Host header: host[:port] as the URL names it. */
  host: string;
  /** Path and query. */
  path: string;
}

interface ParsedBase {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  host: string;
  basePath: string;
}

/** Backend base URLs, parsed once: a gateway sends many requests to few backends. */
const parsedBases = new Map<string, ParsedBase>();

function parseBase(baseUrl: string): ParsedBase {
  let p = parsedBases.get(baseUrl);
  if (!p) {
    const u = new URL(baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`the backend URL '${baseUrl}' is neither http nor https`);
    const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    p = { protocol: u.protocol, hostname, port: u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80, host: u.host, basePath: u.pathname.replace(/\/+$/, '') };
    if (parsedBases.size > 1000) parsedBases.clear();
    parsedBases.set(baseUrl, p);
  }
  return p;
}

/** The backend URL of a request: base URL (its path kept) + the path below the API + the query. */
export function backendTarget(baseUrl: string, relativePath: string, search: string): BackendTarget {
  const base = parseBase(baseUrl);
  const path = `${base.basePath}${relativePath}`;
  return { protocol: base.protocol, hostname: base.hostname, port: base.port, host: base.host, path: `${path === '' ? '/' : path}${search}` };
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
  send(target: BackendTarget, method: string, headers: IncomingHttpHeaders, body: Buffer | IncomingMessage): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const out = forwardableHeaders(headers);
      out['host'] = target.host;
      if (Buffer.isBuffer(body)) {
        delete out['content-length'];
        if (body.length > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH') out['content-length'] = String(body.length);
      } else if (headers['transfer-encoding'] !== undefined) {
        // The client's body arrives chunked; it leaves the same way.
        out['transfer-encoding'] = 'chunked';
      }
      const secure = target.protocol === 'https:';
      const req = (secure ? https : http).request({ method, hostname: target.hostname, port: target.port, path: target.path, headers: out, agent: secure ? this.#https : this.#http }, resolve);
      req.on('error', reject);
      if (Buffer.isBuffer(body)) {
        req.end(body);
        return;
      }
      // A client that goes away mid-body takes the backend request with it (pipe alone would leave it waiting).
      body.once('close', () => {
        if (!body.complete) req.destroy(new Error('the client closed the request before its body was complete'));
      });
      body.pipe(req);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
