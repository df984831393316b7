// spec.CORS: rendered into APIM's <cors> policy, whose origins must be "*" or scheme://host[:port] and which cannot
// combine a wildcard origin with credentials (browsers refuse it, so the API would silently fail for them).
import { invalid, type FieldError } from '../field-error.ts';
import type { ExposedApi } from '../exposedapi-model.ts';
import { SAFE_NAME } from '../http-tokens.ts';

const ORIGIN = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;

export function checkOrigin(origin: string): string | undefined {
  if (origin === '*') return undefined;
  const m = ORIGIN.exec(origin);
  if (!m) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]+[/?#]/.test(origin)) {
      return `origin ${JSON.stringify(origin)} has a path, query or fragment; an origin is scheme://host[:port] only, e.g. ${JSON.stringify(origin.replace(/^([^:]+:\/\/[^/?#]+).*$/, '$1'))}`;
    }
    return `origin ${JSON.stringify(origin)} is not "*" or scheme://host[:port], e.g. "https://shop.example.com"`;
  }
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return `origin ${JSON.stringify(origin)} has port ${m[3]}; ports are 1-65535`;
  return undefined;
}

export function checkCors(api: ExposedApi): FieldError[] {
  const c = api.spec.cors;
  if (!c.enabled) return [];
  const errors: FieldError[] = [];
  const originsField = 'spec.CORS.allowOrigins';
  const originsCsv = c.allowOrigins.join(', ');
  for (const origin of c.allowOrigins) {
    const problem = checkOrigin(origin);
    if (problem) errors.push(invalid(originsField, originsCsv, problem));
  }
  if (c.allowOrigins.includes('*') && c.allowOrigins.length > 1) {
    errors.push(invalid(originsField, originsCsv, '"*" allows every origin and cannot be combined with other origins; list origins or use "*" alone'));
  }
  if (c.allowOrigins.includes('*') && c.allowCredentials) {
    errors.push(
      invalid(
        'spec.CORS.allowCredentials',
        true,
        'cannot be true while allowOrigins is "*" (browsers refuse credentials for a wildcard origin); list the allowed origins explicitly',
      ),
    );
  }
  const p = c.preflight;
  const methodsCsv = p.allowMethods.join(', ');
  for (const m of p.allowMethods) {
    if (m !== '*' && !SAFE_NAME.test(m)) {
      errors.push(invalid('spec.CORS.handlePreflightRequests.allowMethods', methodsCsv, `${JSON.stringify(m)} is not an HTTP method token or "*", e.g. "GET, POST"`));
    }
  }
  const headersCsv = p.allowHeaders.join(', ');
  for (const h of p.allowHeaders) {
    if (h !== '*' && !SAFE_NAME.test(h)) {
      errors.push(invalid('spec.CORS.handlePreflightRequests.allowHeaders', headersCsv, `${JSON.stringify(h)} is not a header name token or "*", e.g. "Content-Type, Authorization"`));
    }
  }
  if (p.maxAge < 0) errors.push(invalid('spec.CORS.handlePreflightRequests.maxAge', p.maxAge, 'must be 0 or more seconds'));
  return errors;
}
