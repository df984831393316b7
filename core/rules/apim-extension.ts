// spec.apim: our extension block. Ids follow APIM's rules (and stay URL- and XML-safe); URLs that APIM or the
// gateway will call must be absolute and, for token validation, https.
import { duplicate, invalid, required, tooLong, type FieldError } from '../field-error.ts';
import type { ExposedApi } from '../exposedapi-model.ts';
import { TARGET_NAME, TARGET_NAME_MAX } from '../apim-target.ts';
import { APIM_API_ID_FORBIDDEN, APIM_RESOURCE_ID, CONTROL_CHARS, isHttpUrl, SAFE_NAME } from '../http-tokens.ts';

export const APIM_ID_MAX = 80;
export const APIM_DISPLAY_NAME_MAX = 300;
export const APIM_SERVICE_URL_MAX = 2000;

export function checkApiId(field: string, apiId: string): FieldError[] {
  if (apiId === '') return [required(field, 'omit spec.apim.apiId to derive one, or give 1-80 characters')];
  if (apiId.length > APIM_ID_MAX) return [tooLong(field, apiId, APIM_ID_MAX)];
  if (APIM_API_ID_FORBIDDEN.test(apiId)) return [invalid(field, apiId, 'must not contain any of * # & + : < > ? (APIM rule ^[^*#&+:<>?]+$)')];
  // Stricter than APIM: these break the ARM URL the id is placed in.
  if (/[\s/\\%]/.test(apiId) || CONTROL_CHARS.test(apiId)) {
    return [invalid(field, apiId, 'must not contain whitespace, "/", "\\" or "%": the id is a segment of the APIM management URL')];
  }
  return [];
}

function checkIdList(field: string, ids: string[], what: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    const f = `${field}[${i}]`;
    if (id.length > APIM_ID_MAX) errors.push(tooLong(f, id, APIM_ID_MAX));
    else if (!APIM_RESOURCE_ID.test(id)) {
      errors.push(invalid(f, id, `must be an APIM ${what} id: letters, digits, "-", "_" and ".", starting and ending with a letter or digit`));
    }
    const key = id.toLowerCase();
    if (seen.has(key)) errors.push(duplicate(f, id, `${what} listed twice`));
    seen.add(key);
  });
  return errors;
}

export function checkApimExtension(api: ExposedApi): FieldError[] {
  const a = api.spec.apim;
  const errors: FieldError[] = [];
  if (a.apiId !== undefined) errors.push(...checkApiId('spec.apim.apiId', a.apiId));
  if (a.displayName !== undefined) {
    if (a.displayName.trim() === '') errors.push(invalid('spec.apim.displayName', a.displayName, 'must not be empty; omit it to use spec.name'));
    else if (a.displayName.length > APIM_DISPLAY_NAME_MAX) errors.push(tooLong('spec.apim.displayName', a.displayName, APIM_DISPLAY_NAME_MAX));
    else if (CONTROL_CHARS.test(a.displayName)) errors.push(invalid('spec.apim.displayName', a.displayName, 'must not contain control characters'));
  }
  errors.push(...checkIdList('spec.apim.products', a.products, 'product'));
  errors.push(...checkIdList('spec.apim.tags', a.tags, 'tag'));
  if (a.jwt) {
    const f = 'spec.apim.authentication.jwt';
    if (a.jwt.openidConfigUrl !== '' && !isHttpUrl(a.jwt.openidConfigUrl, { httpsOnly: true })) {
      errors.push(invalid(`${f}.openidConfigUrl`, a.jwt.openidConfigUrl, 'must be an absolute https URL, e.g. https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration'));
    }
    a.jwt.audiences.forEach((v, i) => {
      if (v.trim() === '' || CONTROL_CHARS.test(v)) errors.push(invalid(`${f}.audiences[${i}]`, v, 'must be a non-empty audience without control characters, e.g. api://my-api'));
    });
    a.jwt.issuers.forEach((v, i) => {
      if (v.trim() === '' || CONTROL_CHARS.test(v)) errors.push(invalid(`${f}.issuers[${i}]`, v, 'must be a non-empty issuer without control characters, e.g. https://sts.windows.net/<tenant>/'));
    });
    for (const claim of a.jwt.requiredClaims) {
      const cf = `${f}.requiredClaims.${claim.name}`;
      if (!SAFE_NAME.test(claim.name)) errors.push(invalid(cf, claim.name, 'claim names must be tokens (letters, digits, - _ .), e.g. roles'));
      claim.values.forEach((v, i) => {
        if (CONTROL_CHARS.test(v)) errors.push(invalid(`${cf}[${i}]`, v, 'claim values must not contain control characters'));
      });
    }
  }
  if (a.target !== undefined && (!TARGET_NAME.test(a.target) || a.target.length > TARGET_NAME_MAX)) {
    errors.push(invalid('spec.apim.target', a.target, 'must be the name of an ApimTarget (a DNS subdomain name: lower-case letters, digits, "-" and "."); kubectl get apimtargets lists them'));
  }
  const b = a.backend;
  if (b.mode === 'url') {
    if (b.url === undefined || b.url === '') errors.push(required('spec.apim.backend.url', 'backend mode "url" needs the absolute http(s) URL APIM should call'));
    else if (!isHttpUrl(b.url)) errors.push(invalid('spec.apim.backend.url', b.url, 'must be an absolute http(s) URL, e.g. https://backend.internal.example.com/api'));
    else if (b.url.length > APIM_SERVICE_URL_MAX) errors.push(tooLong('spec.apim.backend.url', b.url, APIM_SERVICE_URL_MAX));
  } else if (b.mode === 'ingress' && b.url !== undefined) {
    errors.push(invalid('spec.apim.backend.url', b.url, 'is only used with backend.mode "url"; remove it or set mode: url'));
  }
  return errors;
}
