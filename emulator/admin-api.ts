// The emulator's own control API under /_emulator/ — for tests and the local sandbox only. It needs no token (it is
// served on the same HTTPS port as ARM, so anyone who can reach the port can read and reset everything: keep the
// emulator on loopback or inside a test cluster).
//   GET    /_emulator/state       everything the service holds, plus request counts
//   POST   /_emulator/reset       forget all entities, faults, counts and operations (identity and CA stay)
//   GET    /_emulator/faults      the fault rules and how often each fired
//   POST   /_emulator/faults      add a rule (or a list): {method?, pathPattern, status?, retryAfter?, times?, delayMs?, drop?}
//   DELETE /_emulator/faults      remove all rules
//   GET    /_emulator/throttling  ARM throttling settings; PUT/PATCH changes them ({enabled, reads|writes|deletes: {capacity, refillPerSecond}})
//   GET    /_emulator/settings    import delay and duration, async mode, SKU, page size, the realism switches (404
//                                 window after imports, properties at import, null auth settings, path slashes,
//                                 version sets deleted with their last API);
//                                 PATCH changes them (unknown fields are refused)
//   GET    /_emulator/imports     the imports still running: API, operation id, start, expected end, document size
//   GET    /_emulator/info        the connection details the CLI prints at start
import type { FaultInjector } from './faults.ts';
import { FaultRuleError } from './faults.ts';
import type { ServiceSettings } from './apim-service.ts';
import type { ImportDuration } from './import-duration.ts';
import { importDurationProblem } from './import-duration.ts';
import { findTier, unknownSkuMessage } from './sku-tiers.ts';
import type { Throttling } from './throttling.ts';

export interface AdminContext {
  state(): unknown;
  reset(): void;
  info(): unknown;
  faults: FaultInjector;
  throttling: Throttling;
  settings: ServiceSettings;
  /** The imports still running, with when each is due to end. */
  imports(): unknown;
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
  // A typo (`importDuration`) would otherwise be ignored silently and the test would study the wrong mode.
  const known = new Set([...Object.keys(settings), 'importDurationMs']);
  const unknown = Object.keys(p).filter((k) => !known.has(k));
  if (unknown.length > 0) return bad(`unknown setting(s) ${unknown.map((k) => `'${k}'`).join(', ')}; known: ${[...known].join(', ')}`);
  const next = { ...settings };
  if (p['importDelayMs'] !== undefined) {
    if (typeof p['importDelayMs'] !== 'number' || p['importDelayMs'] < 0) return bad(`'importDelayMs' must be a non-negative number`);
    next.importDelayMs = p['importDelayMs'];
    // importDelayMs is the fixed form of the import duration: setting it alone makes imports fixed again.
    if (p['importDurationMs'] === undefined) delete next.importDurationMs;
  }
  if (p['importDurationMs'] !== undefined) {
    const problem = importDurationProblem(p['importDurationMs']);
    if (problem) return bad(problem);
    next.importDurationMs = p['importDurationMs'] as ImportDuration;
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
  if (p['notFoundAfterImportMs'] !== undefined) {
    if (typeof p['notFoundAfterImportMs'] !== 'number' || !(p['notFoundAfterImportMs'] >= 0)) return bad(`'notFoundAfterImportMs' must be a non-negative number of milliseconds`);
    next.notFoundAfterImportMs = p['notFoundAfterImportMs'];
  }
  if (p['importAppliesProperties'] !== undefined) {
    if (typeof p['importAppliesProperties'] !== 'boolean') return bad(`'importAppliesProperties' must be true or false`);
    next.importAppliesProperties = p['importAppliesProperties'];
  }
  if (p['authenticationSettingsNulls'] !== undefined) {
    const v = p['authenticationSettingsNulls'];
    if (v !== 'ignore' && v !== 'refuse' && v !== 'clear') return bad(`'authenticationSettingsNulls' must be 'ignore', 'refuse' or 'clear'`);
    next.authenticationSettingsNulls = v;
  }
  if (p['apiPathSlashes'] !== undefined) {
    if (p['apiPathSlashes'] !== 'refuse' && p['apiPathSlashes'] !== 'trim') return bad(`'apiPathSlashes' must be 'refuse' or 'trim'`);
    next.apiPathSlashes = p['apiPathSlashes'];
  }
  if (p['versionSetRemovedWithLastApi'] !== undefined) {
    if (typeof p['versionSetRemovedWithLastApi'] !== 'boolean') return bad(`'versionSetRemovedWithLastApi' must be true or false`);
    next.versionSetRemovedWithLastApi = p['versionSetRemovedWithLastApi'];
  }
  if (next.importDurationMs === undefined) delete settings.importDurationMs;
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
      case 'GET /_emulator/imports':
        return { status: 200, body: { imports: ctx.imports() } };
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
