// spec.path: the APIM API path (leading slash stripped) and the route path the backend is called on.
//
// Canonical: a path is accepted only in a form that names its URL space one way, because path claims
// (core/rules/claims.ts) compare strings, and two strings that the gateway or a backend read as one path would claim
// it twice. Hence:
// - no percent-encoding: `/%70ayments/v1` is `/payments/v1`, and `/team-b/%2e%2e/payments/v1` normalises to
//   `/payments/v1`; the fix is to write the characters themselves (every character a path may hold is allowed as is);
// - no ";": path parameters, dropped from a segment by servlet containers and some proxies;
// - no "." or ".." segments and no segment ending in ".": dot segments are removed by every URL parser, and some
//   (.NET Framework's Uri before 4.5, IIS) also trim trailing dots; APIM's gateway is a .NET service, so
//   `/payments./v1` could route as `/payments/v1` — refusing costs nothing, no real path ends a segment with ".";
// - case is not part of the identity: APIM matches API paths case-insensitively, so the claim key is lower-cased
//   (`/Payments/V1` and `/payments/v1` collide) rather than refusing capitals users already write.
import { invalid, tooLong, type FieldError } from '../field-error.ts';
import { PATH_SEGMENT } from '../http-tokens.ts';

/** APIM's limit on an API path, counted without the leading slash. */
export const APIM_PATH_MAX = 400;

const ESCAPE = /%([0-9A-Fa-f]{2})/g;

/** The path with its escapes decoded byte by byte (no UTF-8 reassembly: only a hint for the message). */
function decodeEscapes(path: string): string {
  return path.replace(ESCAPE, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function percentError(field: string, path: string): FieldError {
  const first = /%(?:[0-9A-Fa-f]{2})?/.exec(path)?.[0] ?? '%';
  const decoded = decodeEscapes(path);
  const why = 'APIM and backends decode it, so two different strings would name one path';
  if (decoded !== path && !decoded.includes('%') && checkUrlPath(field, decoded).length === 0) {
    return invalid(field, path, `must not contain percent-encoding (${JSON.stringify(first)}): ${why}; write the characters themselves: "${decoded}"`);
  }
  const hint = decoded !== path ? ` (it decodes to ${JSON.stringify(decoded)}, which is not a valid path either)` : '';
  return invalid(field, path, `must not contain percent-encoding (${JSON.stringify(first)}): ${why}${hint}; write the characters themselves, using letters, digits and - . _ ~`);
}

const SEGMENT_CHARS_OUTSIDE = /[^A-Za-z0-9\-._~!$&'()*+,=:@]+/g;
const FALLBACK_EXAMPLE = '/my-component/my-api/v1';

/**
 * A valid path close to what was written, for the examples in messages: escapes decoded, other characters outside
 * the segment class replaced by "-", empty, dot and trailing-dot forms dropped. Every example a message gives must
 * itself pass these rules, or the user fixes one problem to meet the next.
 */
function validExample(path: string): string {
  const segments = decodeEscapes(path)
    .split('/')
    .map((seg) => seg.replace(SEGMENT_CHARS_OUTSIDE, '-').replace(/-{2,}/g, '-').replace(/^-+|[-.]+$/g, ''))
    .filter((seg) => seg !== '' && seg !== '.' && seg !== '..');
  let example = '/' + segments.join('/');
  if (example.length - 1 > APIM_PATH_MAX) example = example.slice(0, APIM_PATH_MAX + 1).replace(/[/.-]+$/, '');
  return example === '/' ? FALLBACK_EXAMPLE : example;
}

function quotedList(values: string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/**
 * Shape rules shared by spec.path and spec.developerUI. Every problem is reported at once (a path without its leading
 * "/" is checked as if it had one), and every example offered is a path these rules accept.
 */
export function checkUrlPath(field: string, path: string): FieldError[] {
  const rooted = path.startsWith('/') ? path : `/${path}`;
  if (rooted === '/') return [invalid(field, path, `must name at least one path segment, e.g. "${FALLBACK_EXAMPLE}"`)];
  // Built only for a message: admission checks a valid path on every review, and the example is the costly part.
  let built: string | undefined;
  const example = (): string => (built ??= validExample(path));
  const errors: FieldError[] = [];
  if (!path.startsWith('/')) errors.push(invalid(field, path, `must start with "/", e.g. "${example()}"`));
  if (path.endsWith('/')) errors.push(invalid(field, path, `must not end with "/", e.g. "${example()}"`));
  const segments = rooted.slice(1).replace(/\/+$/, '').split('/');
  if (segments.some((seg) => seg === '')) errors.push(invalid(field, path, `must not contain empty segments ("//"), e.g. "${example()}"`));
  if (segments.some((seg) => seg === '.' || seg === '..')) {
    errors.push(invalid(field, path, 'must not contain "." or ".." segments'));
  }
  const dotted = segments.find((seg) => seg.endsWith('.') && seg !== '.' && seg !== '..');
  if (dotted !== undefined) {
    errors.push(invalid(field, path, `segment ${JSON.stringify(dotted)} must not end with "." (some URL parsers drop trailing dots, so it would route like ${JSON.stringify(dotted.replace(/\.+$/, ''))}); remove the dot`));
  }
  if (path.includes('%')) errors.push(percentError(field, path));
  if (path.includes(';')) {
    errors.push(invalid(field, path, 'must not contain ";": servers and proxies read it as the start of path parameters and route "/a;x/b" like "/a/b"; use "-" or "_" instead'));
  }
  // "%" and ";" have their own message above; any other character outside the class is reported once here, naming
  // every segment that has one.
  const bad = segments.filter((seg) => seg.replace(/[%;]/g, '') !== '' && !PATH_SEGMENT.test(seg.replace(/[%;]/g, '')));
  if (bad.length > 0) {
    const which = bad.length === 1 ? `segment ${quotedList(bad)} has` : `segments ${quotedList(bad)} have`;
    errors.push(invalid(field, path, `${which} characters that are not URL-safe; use letters, digits and - . _ ~, e.g. "${example()}"`));
  }
  return errors;
}

export function checkApiPath(path: string): FieldError[] {
  if (path === '') return []; // reported as Required by the model
  const errors = checkUrlPath('spec.path', path);
  if (path.length - 1 > APIM_PATH_MAX) errors.push(tooLong('spec.path', path, APIM_PATH_MAX, 'characters after the leading "/" (the APIM limit)'));
  return errors;
}

/** The key two paths collide on in APIM: the path without its slash, compared case-insensitively like APIM's router. */
export function pathClaimKey(path: string): string {
  return path.replace(/^\/+/, '').toLowerCase();
}
