// Fetches specification documents by URL for the webhook and the executor (one implementation, one set of rules):
// a hard time budget, a size cap, https only unless allowed, an optional host allowlist, and the address guard applied
// to every resolved address and every redirect hop. Results are cached by URL and revalidated with ETags.
import { lookup as dnsLookup } from 'node:dns';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { refusedAddressReason } from './address-guard.ts';
import { classifySpecUrl, type EndpointResolution, type ImplementationScope, type ServedEndpoint, type SpecUrlTarget } from './served-document.ts';

export interface SpecFetchOptions {
  /** Total budget for one fetch, redirects included. */
  timeoutMs: number;
  maxBytes: number;
  allowHttp: boolean;
  allowPrivate: boolean;
  /** Host names (exact, or ".example.com" for a domain and its subdomains); empty = any host. */
  allowedHosts: string[];
  /** How long a fetched document is reused without asking the server again. */
  freshMs: number;
  maxRedirects: number;
  /** Extra CA certificates to trust (PEM), e.g. for an internal spec server. */
  ca?: string;
}

export const DEFAULT_SPEC_FETCH_OPTIONS: SpecFetchOptions = {
  timeoutMs: 3000,
  maxBytes: 4 * 1024 * 1024,
  allowHttp: false,
  allowPrivate: false,
  allowedHosts: [],
  freshMs: 60_000,
  maxRedirects: 3,
};

export type FetchOutcome =
  /** The document text. */
  | { kind: 'ok'; text: string; contentType?: string; etag?: string; fromCache: boolean }
  /** The URL is not allowed by policy: a configuration or authoring error, not a transient one. */
  | { kind: 'refused'; reason: string }
  /** The server could not be reached or answered with an error: may be transient. */
  | { kind: 'unreachable'; reason: string }
  /** The URL names the implementation Service, which has no ready pod yet (core/served-document.ts). */
  | { kind: 'not-ready'; reason: string };

class FetchRefused extends Error {}
class ImplementationNotReady extends Error {}

interface HttpAnswer {
  status: number;
  body: string;
  location?: string;
  contentType?: string;
  etag?: string;
}

/** The pod was not there to connect to (gone, not listening yet): the next ready pod may be. */
function isConnectError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET';
}

/**
 * The ExposedAPI a fetch is for, and how its implementation Service's ready endpoints are read (the Kubernetes API;
 * never DNS). Given, a URL naming that Service is read from its pods, and other in-cluster names are refused unless
 * private fetches are allowed.
 */
export interface ServedScope extends ImplementationScope {
  endpoints(target: Extract<SpecUrlTarget, { kind: 'implementation' }>): Promise<EndpointResolution>;
}

interface CacheEntry {
  text: string;
  contentType?: string;
  etag?: string;
  storedAt: number;
}

export function hostAllowed(host: string, allowed: string[]): boolean {
  if (allowed.length === 0) return true;
  const h = host.toLowerCase();
  return allowed.some((a) => {
    const rule = a.toLowerCase().trim();
    return rule.startsWith('.') ? h.endsWith(rule) || h === rule.slice(1) : h === rule;
  });
}

/** How long an unreachable outcome is reused: long enough for one admission's two asks, short enough for a retry. */
const UNREACHABLE_MEMORY_MS = 2000;

export class SpecFetcher {
  readonly options: SpecFetchOptions;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly maxCacheEntries = 128;
  /** Fetches in progress: concurrent requests for one URL share one download. */
  private readonly inflight = new Map<string, Promise<FetchOutcome>>();
  /**
   * Recent unreachable outcomes. Admission asks twice per review (the mutation records the document's digest, then
   * validation checks it), and an unreachable host would otherwise cost its timeout twice.
   */
  private readonly failures = new Map<string, { outcome: FetchOutcome; at: number }>();
  /** Counts by outcome, for metrics. */
  readonly counts = { ok: 0, cached: 0, revalidated: 0, refused: 0, unreachable: 0 };
  /** Called once per fetch with its outcome, e.g. to feed a Prometheus counter. */
  onOutcome?: (outcome: keyof SpecFetcher['counts']) => void;

  private count(outcome: keyof SpecFetcher['counts']): void {
    this.counts[outcome]++;
    this.onOutcome?.(outcome);
  }

  constructor(options: Partial<SpecFetchOptions> = {}) {
    this.options = { ...DEFAULT_SPEC_FETCH_OPTIONS, ...options };
  }

  /**
   * `scope`: the ExposedAPI the URL belongs to (the executor's run). A scoped fetch bypasses the cache: `http://svc/…`
   * means another Service in every namespace.
   */
  async fetch(url: string, scope?: ServedScope): Promise<FetchOutcome> {
    if (scope) return this.download(url, undefined, scope);
    const cached = this.cache.get(url);
    if (cached && Date.now() - cached.storedAt < this.options.freshMs) {
      this.count('cached');
      return { kind: 'ok', text: cached.text, contentType: cached.contentType, etag: cached.etag, fromCache: true };
    }
    const failed = this.failures.get(url);
    if (failed && Date.now() - failed.at < UNREACHABLE_MEMORY_MS) {
      this.count('unreachable');
      return failed.outcome;
    }
    const running = this.inflight.get(url);
    if (running) return running;
    const fetching = this.download(url, cached).finally(() => this.inflight.delete(url));
    this.inflight.set(url, fetching);
    return fetching;
  }

  private async download(url: string, cached: CacheEntry | undefined, scope?: ServedScope): Promise<FetchOutcome> {
    const deadline = Date.now() + this.options.timeoutMs;
    try {
      const res = await this.follow(url, deadline, cached?.etag, scope);
      if (scope) {
        this.count('ok');
        return { kind: 'ok', text: res.body, contentType: res.contentType, etag: res.etag, fromCache: false };
      }
      if (res.status === 304 && cached) {
        cached.storedAt = Date.now();
        this.count('revalidated');
        return { kind: 'ok', text: cached.text, contentType: cached.contentType, etag: cached.etag, fromCache: true };
      }
      const entry: CacheEntry = { text: res.body, contentType: res.contentType, etag: res.etag, storedAt: Date.now() };
      this.cache.delete(url);
      this.cache.set(url, entry);
      if (this.cache.size > this.maxCacheEntries) this.cache.delete(this.cache.keys().next().value as string);
      this.count('ok');
      return { kind: 'ok', text: res.body, contentType: res.contentType, etag: res.etag, fromCache: false };
    } catch (e) {
      if (e instanceof FetchRefused) {
        this.count('refused');
        return { kind: 'refused', reason: e.message };
      }
      this.count('unreachable');
      if (e instanceof ImplementationNotReady) return { kind: 'not-ready', reason: e.message };
      const outcome: FetchOutcome = { kind: 'unreachable', reason: e instanceof Error ? e.message : String(e) };
      if (scope) return outcome;
      this.failures.set(url, { outcome, at: Date.now() });
      if (this.failures.size > this.maxCacheEntries) this.failures.delete(this.failures.keys().next().value as string);
      return outcome;
    }
  }

  /** Why a URL may not be fetched at all (scheme, host allowlist, literal address), before any network traffic. */
  urlRefusal(url: string): string | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return `${JSON.stringify(url)} is not an absolute URL`;
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && this.options.allowHttp)) {
      return u.protocol === 'http:'
        ? `plain http is not fetched (SPEC_FETCH_ALLOW_HTTP=false); use an https URL`
        : `scheme ${u.protocol} is not fetched; use an https URL`;
    }
    if (u.username || u.password) return 'URLs with embedded credentials are not fetched';
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!hostAllowed(host, this.options.allowedHosts)) {
      return `host ${host} is not in the allowed specification hosts (${this.options.allowedHosts.join(', ')})`;
    }
    if (isIP(host)) return refusedAddressReason(host, this.options);
    return undefined;
  }

  private async follow(url: string, deadline: number, etag: string | undefined, scope?: ServedScope): Promise<{ status: number; body: string; contentType?: string; etag?: string }> {
    let current = url;
    for (let hop = 0; hop <= this.options.maxRedirects; hop++) {
      // Every hop is judged again: a redirect from the implementation to anywhere else meets the ordinary rules.
      const target: SpecUrlTarget = scope ? classifySpecUrl(current, scope) : { kind: 'elsewhere' };
      const refusal = target.kind === 'implementation' ? undefined
        : target.kind === 'other-service' && !this.options.allowPrivate ? target.reason
        : this.urlRefusal(current);
      if (refusal) throw new FetchRefused(hop === 0 ? refusal : `redirected to ${current}: ${refusal}`);
      const res = target.kind === 'implementation'
        ? await this.fromImplementation(current, deadline, target, scope!)
        : await this.request(current, deadline, hop === 0 ? etag : undefined);
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && res.location) {
        current = new URL(res.location, current).toString();
        continue;
      }
      if (res.status === 304) return { status: 304, body: '' };
      if (res.status < 200 || res.status >= 300) throw new Error(`GET ${current} answered HTTP ${res.status}`);
      return { status: res.status, body: res.body, contentType: res.contentType, etag: res.etag };
    }
    throw new FetchRefused(`more than ${this.options.maxRedirects} redirects`);
  }

  /**
   * A URL naming the implementation: connect to its ready pods as the Kubernetes API lists them (plain http allowed:
   * the traffic stays in the cluster, as it does for every call APIM's route makes to the same pods), one after the
   * other while a pod refuses the connection. https verifies the certificate against the URL's host name.
   */
  private async fromImplementation(url: string, deadline: number, target: Extract<SpecUrlTarget, { kind: 'implementation' }>, scope: ServedScope): Promise<HttpAnswer> {
    const resolution = await scope.endpoints(target);
    if (resolution.kind === 'refused') throw new FetchRefused(resolution.reason);
    if (resolution.kind === 'not-ready') throw new ImplementationNotReady(resolution.reason);
    let last: unknown;
    for (const endpoint of resolution.endpoints) {
      try {
        return await this.request(url, deadline, undefined, endpoint);
      } catch (e) {
        if (e instanceof FetchRefused || !isConnectError(e)) throw e;
        last = e;
      }
    }
    throw new Error(`no ready pod of Service ${target.namespace}/${target.service} accepted the connection: ${last instanceof Error ? last.message : String(last)}`);
  }

  private request(url: string, deadline: number, etag: string | undefined, via?: ServedEndpoint): Promise<HttpAnswer> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(new Error(`timed out after ${this.options.timeoutMs} ms`));
    const u = new URL(url);
    const policy = this.options;
    // Every address a name resolves to must pass the guard; the connection then uses the checked address, so a
    // second DNS answer (rebinding) cannot swap in an internal one.
    const guardedLookup: LookupFunction = (hostname, opts, callback) => {
      dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
        if (err) return callback(err, '', 4);
        const list = addresses as unknown as { address: string; family: number }[];
        for (const a of list) {
          const reason = refusedAddressReason(a.address, policy);
          if (reason) return callback(new FetchRefused(`${hostname} resolves to ${reason}`), '', 4);
        }
        if ((opts as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        const first = list[0]!;
        callback(null, first.address, first.family);
      });
    };

    // Plain http only when allowed, and taken from Node's own module table: an ESM import of node:http builds an ESM
    // facade by reading every export, and node:http's lazy WebSocket/EventSource getters then load undici (about 45 ms
    // of CPU and 8 MB in every executor process, measured with bench:executor-process --profile).
    const mod = u.protocol === 'https:' ? https : (process.getBuiltinModule('node:http') as typeof import('node:http'));
    const common = {
      method: 'GET',
      headers: {
        ...(via ? { host: u.host } : {}),
        accept: 'application/json, application/yaml, text/yaml, */*;q=0.5',
        'accept-encoding': 'identity',
        'user-agent': 'exposedapi-apim',
        ...(etag ? { 'if-none-match': etag } : {}),
      },
      ...(policy.ca ? { ca: policy.ca } : {}),
      agent: false as const,
    };
    return new Promise((resolve, reject) => {
      const onResponse = (res: import('node:http').IncomingMessage): void => {
        const status = res.statusCode ?? 0;
        const declared = Number(res.headers['content-length'] ?? '0');
        if (declared > policy.maxBytes) {
          res.destroy();
          reject(new FetchRefused(`the document is ${declared} bytes; the limit is ${policy.maxBytes}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > policy.maxBytes) {
            req.destroy(new FetchRefused(`the document exceeds the limit of ${policy.maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () =>
          resolve({
            status,
            body: Buffer.concat(chunks).toString('utf8'),
            location: typeof res.headers.location === 'string' ? res.headers.location : undefined,
            contentType: res.headers['content-type'],
            etag: typeof res.headers.etag === 'string' ? res.headers.etag : undefined,
          }),
        );
        res.on('error', reject);
      };
      // A served document: the pod's address from the Kubernetes API, with the URL's host in Host and as the TLS server
      // name (no DNS at all). Anything else: the URL, every address its name resolves to checked by the guard.
      const req = via
        ? mod.request({ ...common, host: via.address, port: via.port, path: `${u.pathname}${u.search}`, protocol: u.protocol, servername: u.hostname, family: isIP(via.address) }, onResponse)
        : mod.request(u, { ...common, lookup: guardedLookup }, onResponse);
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${policy.timeoutMs} ms`)), remaining);
      req.on('error', (e) => reject(e));
      req.on('close', () => clearTimeout(timer));
      req.end();
    });
  }
}
