// spec.path: the APIM API path (leading slash stripped) and the route path the backend is called on.
import { invalid, tooLong, type FieldError } from '../field-error.ts';
import { PATH_SEGMENT } from '../http-tokens.ts';

/** APIM's limit on an API path, counted without the leading slash. */
export const APIM_PATH_MAX = 400;

/** Shape rules shared by spec.path and spec.developerUI. */
export function checkUrlPath(field: string, path: string): FieldError[] {
  if (!path.startsWith('/')) return [invalid(field, path, `must start with "/", e.g. "/${path.replace(/^\/+|\/+$/g, '')}"`)];
  if (path === '/') return [invalid(field, path, 'must name at least one path segment, e.g. "/my-component/my-api/v1"')];
  const errors: FieldError[] = [];
  if (path.endsWith('/')) errors.push(invalid(field, path, `must not end with "/"; use "${path.replace(/\/+$/, '')}"`));
  const segments = path.slice(1).replace(/\/$/, '').split('/');
  if (segments.some((seg) => seg === '')) errors.push(invalid(field, path, 'must not contain empty segments ("//")'));
  if (segments.some((seg) => seg === '.' || seg === '..')) {
    errors.push(invalid(field, path, 'must not contain "." or ".." segments'));
  }
  const bad = segments.filter((seg) => seg !== '' && !PATH_SEGMENT.test(seg));
  if (bad.length > 0) {
    errors.push(
      invalid(
        field,
        path,
        `segment ${JSON.stringify(bad[0])} has characters that are not URL-safe; use letters, digits and - . _ ~ (percent-encode anything else)`,
      ),
    );
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
