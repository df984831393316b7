// One request through the gateway, in APIM's order: route to an API (404), a CORS preflight answered by the cors
// policies alone, the operation (404), the subscription (401), the inbound policies, forward-request, the outbound
// policies, and the response streamed back (buffered only when an outbound policy reads its body). Headers a policy
// added (CORS, rate-limit) go on every answer given after it ran, the gateway's own errors included.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApimService } from '../apim-service.ts';
import type { BackendClient } from './backend-forward.ts';
import { backendTarget, HOP_BY_HOP } from './backend-forward.ts';
import type { CompiledPolicy } from './effective-policy.ts';
import type { GatewayReply } from './gateway-errors.ts';
import { ExpressionFailure, internalServerError, NotModelled, notModelledReply, resourceNotFound } from './gateway-errors.ts';
import type { GatewayView } from './gateway-view.ts';
import type { BackendResponse } from './policy-step.ts';
import type { RequestState } from './request-state.ts';
import { expressionContext } from './request-state.ts';
import { RequestUrl } from './request-url.ts';
import { checkSubscription } from './subscription-check.ts';

export interface PipelineContext {
  svc: ApimService;
  view(): GatewayView;
  backend: BackendClient;
  /** Largest request body the gateway buffers for validation (the emulator's body limit). */
  bodyLimit: number;
  log?: (line: string) => void;
}

function send(res: ServerResponse, reply: GatewayReply, extra: Record<string, string> = {}): void {
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, { ...extra, ...reply.headers, 'content-length': String(body.length) });
  res.end(body);
}

/** Reads a body whole (refusing more than `limit` bytes). */
function readAll(stream: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        stream.removeAllListeners('data');
        stream.resume();
        resolve('too-large');
        return;
      }
      chunks.push(c);
    });
    // Small bodies arrive in one chunk: no copy then.
    stream.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function clientIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function preflightOf(req: IncomingMessage): { origin: string; method: string; headers: string[] } | undefined {
  const origin = req.headers['origin'];
  const method = req.headers['access-control-request-method'];
  if ((req.method ?? '').toUpperCase() !== 'OPTIONS' || origin === undefined || typeof method !== 'string') return undefined;
  const requested = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  return { origin, method: method.toUpperCase(), headers: requested };
}

const EMPTY_OK: GatewayReply = { status: 200, headers: { 'content-length': '0' }, body: '' };

async function runPolicies(ctx: PipelineContext, req: IncomingMessage, res: ServerResponse, state: RequestState, policy: CompiledPolicy): Promise<void> {
  if (policy.readsRequestBody) {
    const body = await readAll(req, ctx.bodyLimit);
    if (body === 'too-large') {
      // The gateway's own limit, not APIM's: refuse plainly (unverified status for APIM, whose limit is larger).
      send(res, { status: 413, headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close' }, body: `{ "statusCode": 413, "message": "The request body exceeds the emulator's limit of ${ctx.bodyLimit} bytes." }` }, state.responseHeaders);
      return;
    }
    state.body = body;
  }
  for (const step of policy.inbound) {
    const reply = await step.run(state);
    if (reply) {
      if (!state.body) req.resume();
      send(res, reply, state.responseHeaders);
      return;
    }
  }
  if (state.backendUrl === null) {
    // An API without a serviceUrl (and no set-backend-service): nothing to forward to (unverified answer).
    if (!state.body) req.resume();
    send(res, internalServerError(), state.responseHeaders);
    return;
  }
  let upstream: IncomingMessage;
  try {
    upstream = await ctx.backend.send(backendTarget(state.backendUrl, state.relativePath, state.url.search), state.method, state.headers, state.body ?? req);
  } catch (err) {
    ctx.log?.(`gateway: backend ${state.backendUrl} failed: ${(err as Error).message}`);
    send(res, internalServerError(), state.responseHeaders);
    return;
  }
  const response: BackendResponse = { status: upstream.statusCode ?? 502, headers: upstream.headers };
  if (policy.outbound.length > 0) {
    if (policy.readsResponseBody) {
      const body = await readAll(upstream, ctx.bodyLimit);
      if (body === 'too-large') {
        send(res, internalServerError(), state.responseHeaders);
        return;
      }
      response.body = body;
    }
    for (const step of policy.outbound) {
      const reply = step.run(state, response);
      if (reply) {
        if (!response.body) upstream.resume();
        send(res, reply, state.responseHeaders);
        return;
      }
    }
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  Object.assign(headers, state.responseHeaders);
  if (response.body) {
    headers['content-length'] = String(response.body.length);
    res.writeHead(response.status, headers);
    res.end(response.body);
    return;
  }
  res.writeHead(response.status, headers);
  // Either side ending early ends the other: a client gone stops the backend read, a backend failing cuts the reply.
  res.once('close', () => {
    if (!upstream.complete) upstream.destroy();
  });
  upstream.once('error', () => res.destroy());
  upstream.pipe(res);
}

export async function handleGatewayRequest(ctx: PipelineContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new RequestUrl(req.url ?? '/');
  const query = (): URLSearchParams => url.searchParams;
  const view = ctx.view();
  const found = view.findApi(url.pathname, {
    query,
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    },
  });
  if (!found) {
    req.resume();
    send(res, resourceNotFound());
    return;
  }
  const { api, relativePath } = found;
  const match = view.findOperation(api, method, relativePath, query);
  const preflight = match ? undefined : preflightOf(req);
  if (preflight) {
    // "Only the cors policy is evaluated on the OPTIONS request during preflight"; the operation asked about (when
    // there is one) decides which operation-scope policies count.
    req.resume();
    const asked = view.findOperation(api, preflight.method, relativePath, query);
    const policy = view.policy(api, asked?.operation);
    if (policy instanceof NotModelled) return send(res, notModelledReply(policy));
    if (policy.cors.length === 0) return send(res, resourceNotFound());
    for (const cors of policy.cors) {
      const answer = cors.preflight(preflight);
      if (answer !== 'unmatched') return send(res, answer);
      if (cors.terminateUnmatched) return send(res, EMPTY_OK);
    }
    return send(res, EMPTY_OK);
  }
  if (!match) {
    req.resume();
    send(res, resourceNotFound());
    return;
  }
  const policy = view.policy(api, match.operation);
  if (policy instanceof NotModelled) {
    req.resume();
    send(res, notModelledReply(policy));
    return;
  }
  const subscription = checkSubscription(ctx.svc, view, api, req.headers, query);
  if (!subscription.ok) {
    req.resume();
    send(res, subscription.reply);
    return;
  }
  const serviceUrl = api.entity.properties['serviceUrl'];
  const base = {
    method,
    url,
    headers: req.headers,
    ipAddress: clientIp(req),
    api,
    operation: match.operation.entity,
    operationKey: match.operation.key,
    schemas: api.entity.schemas,
    templateParams: match.params,
    relativePath,
    subscription: subscription.subscription,
    variables: new Map<string, unknown>(),
    responseHeaders: {} as Record<string, string>,
    backendUrl: typeof serviceUrl === 'string' && serviceUrl !== '' ? serviceUrl : null,
    quotaKeys: new Set<string>(),
  };
  const state: RequestState = { ...base, expressions: expressionContext(base) };
  try {
    await runPolicies(ctx, req, res, state, policy);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof NotModelled) return send(res, notModelledReply(err), state.responseHeaders);
    if (err instanceof ExpressionFailure) {
      ctx.log?.(`gateway: ${err.message}`);
      return send(res, internalServerError(), state.responseHeaders);
    }
    throw err;
  }
}
