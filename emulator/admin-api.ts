// The emulator's own control API under /_emulator/ — for tests and the local sandbox only. It needs no token (it is
// served on the same HTTPS port as ARM, so anyone who can reach the port can read and reset everything: keep the
// emulator on loopback or inside a test cluster).
//   GET    /_emulator/state       everything the service holds, plus request counts
//   POST   /_emulator/reset       forget all entities, faults, counts and operations (identity and CA stay)
//   GET    /_emulator/faults      the fault rules and how often each fired
//   POST   /_emulator/faults      add a rule (or a list): {method?, pathPattern, status?, retryAfter?, times?, delayMs?, drop?}
//   DELETE /_emulator/faults      remove all rules
//   GET    /_emulator/throttling  ARM throttling settings; PUT/PATCH changes them ({enabled, reads|writes|deletes: {capacity, refillPerSecond}})
//   GET    /_emulator/settings    import delay, async mode, SKU, page size; PATCH changes them
//   GET    /_emulator/info        the connection details the CLI prints at start
import type { FaultInjector } from './faults.ts';
import { FaultRuleError } from './faults.ts';
import type { ServiceSettings } from './apim-service.ts';
import { findTier, unknownSkuMessage } from './sku-tiers.ts';
import type { Throttling } from './throttling.ts';

export interface AdminContext {
  state(): unknown;
  reset(): void;
  info(): unknown;
  faults: FaultInjector;
  throttling: Throttling;
  settings: ServiceSettings;
}

export interface AdminReply {
  status: number;
  body?: unknown;
}

function bad(message: string): AdminReply {
  return { status: 400, body: { error: { code: 'BadRequest', message } } };
}

function updateSettings(settings: ServiceSettings, patch: unknown): AdminReply {
  if (patch === null || typeof patch !== 'object') return bad('settings must be a JSON object');
  const p = patch as Record<string, unknown>;
  const next = { ...settings };
  if (p['importDelayMs'] !== undefined) {
    if (typeof p['importDelayMs'] !== 'number' || p['importDelayMs'] < 0) return bad(`'importDelayMs' must be a non-negative number`);
    next.importDelayMs = p['importDelayMs'];
  }
  if (p['asyncMode'] !== undefined) {
    if (p['asyncMode'] !== 'location' && p['asyncMode'] !== 'azure-async-operation') return bad(`'asyncMode' must be 'location' or 'azure-async-operation'`);
    next.asyncMode = p['asyncMode'];
  }
  if (p['sku'] !== undefined) {
    // Only a tier the emulator models (sku-tiers.ts): an unknown name would silently offer every policy.
    if (typeof p['sku'] !== 'string' || !findTier(p['sku'])) return bad(unknownSkuMessage(p['sku']));
    next.sku = p['sku'];
  }
  if (p['pageSize'] !== undefined) {
    if (typeof p['pageSize'] !== 'number' || p['pageSize'] < 1) return bad(`'pageSize' must be at least 1`);
    next.pageSize = p['pageSize'];
  }
  if (p['policyBodyFormat'] !== undefined) {
    if (p['policyBodyFormat'] !== 'json' && p['policyBodyFormat'] !== 'xml') return bad(`'policyBodyFormat' must be 'json' or 'xml'`);
    next.policyBodyFormat = p['policyBodyFormat'];
  }
  if (p['validateContentMaxSizeLimit'] !== undefined) {
    if (typeof p['validateContentMaxSizeLimit'] !== 'number' || p['validateContentMaxSizeLimit'] < 1) return bad(`'validateContentMaxSizeLimit' must be a positive number of bytes`);
    next.validateContentMaxSizeLimit = p['validateContentMaxSizeLimit'];
  }
  Object.assign(settings, next);
  return { status: 200, body: settings };
}

export function handleAdmin(ctx: AdminContext, method: string, path: string, body: unknown): AdminReply {
  const route = `${method} ${path.replace(/\/+$/, '')}`;
  try {
    switch (route) {
      case 'GET /_emulator/state':
        return { status: 200, body: ctx.state() };
      case 'POST /_emulator/reset':
        ctx.reset();
        return { status: 204 };
      case 'GET /_emulator/info':
        return { status: 200, body: ctx.info() };
      case 'GET /_emulator/faults':
        return { status: 200, body: { rules: ctx.faults.list() } };
      case 'POST /_emulator/faults': {
        const rules = Array.isArray(body) ? body.map((r) => ctx.faults.add(r)) : [ctx.faults.add(body)];
        return { status: 201, body: { rules } };
      }
      case 'DELETE /_emulator/faults':
        ctx.faults.clear();
        return { status: 204 };
      case 'GET /_emulator/throttling':
        return { status: 200, body: ctx.throttling.config };
      case 'PUT /_emulator/throttling':
      case 'PATCH /_emulator/throttling':
        return { status: 200, body: ctx.throttling.configure(body) };
      case 'GET /_emulator/settings':
        return { status: 200, body: ctx.settings };
      case 'PATCH /_emulator/settings':
      case 'PUT /_emulator/settings':
        return updateSettings(ctx.settings, body);
      default:
        return { status: 404, body: { error: { code: 'NotFound', message: `No emulator admin endpoint '${route}'.` } } };
    }
  } catch (err) {
    if (err instanceof FaultRuleError || err instanceof Error) return bad(err.message);
    throw err;
  }
}
