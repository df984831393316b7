// The one normalized value every part works from (webhook, offline validate, executor), built from any accepted shape
// of an ExposedAPI: canonical v1 / v1beta4 / v1beta3 and the Azure install guide's inline-document variant.
// ODA defaults (declared only in the CRD's field descriptions) are applied here and never written back to the object.
import { forbidden, invalid, notSupported, required, type FieldError } from './field-error.ts';
import { isObject, ObjectReader, type JsonObject } from './object-reader.ts';

export const ODA_GROUP = 'oda.tmforum.org';
export const KIND = 'ExposedAPI';
export const ODA_VERSIONS = ['v1', 'v1beta4', 'v1beta3'] as const;
export type OdaVersion = (typeof ODA_VERSIONS)[number];

/** apiType enum per served version, as in the canonical CRD. */
export const API_TYPES: Record<OdaVersion, readonly string[]> = {
  v1: ['openapi', 'prometheus', 'openmetrics', 'mcp'],
  v1beta4: ['openapi', 'prometheus'],
  v1beta3: ['openapi', 'prometheus'],
};
export const SEGMENTS = ['coreFunction', 'managementFunction', 'securityFunction'] as const;

// ODA defaults, from the CRD field descriptions.
export const DEFAULT_CORS_ALLOW_ORIGINS = '*';
export const DEFAULT_CORS_ALLOW_HEADERS =
  'Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers';
export const DEFAULT_CORS_ALLOW_METHODS = 'GET, POST, HEAD, OPTIONS';
export const DEFAULT_CORS_MAX_AGE = 1800;
export const DEFAULT_RATE_LIMIT_INTERVAL = 'ps';

export const ANNOTATION_PREFIX = 'exposedapi-apim.io';
export const SPEC_HASH_ANNOTATION = `${ANNOTATION_PREFIX}/spec-hash`;
export const RECONCILE_AT_ANNOTATION = `${ANNOTATION_PREFIX}/reconcile-at`;
export const DETACH_ANNOTATION = `${ANNOTATION_PREFIX}/detach-on-delete`;
/**
 * SHA-256 (hex) of the OpenAPI document the mutating webhook checked and found valid: the inline text, or what it
 * fetched from the URL. The executor skips its own full document checks when the document it resolves has this digest
 * (core/document-digest.ts). Not part of the spec hash: stamping it never starts a Job.
 */
export const DOCUMENT_DIGEST_ANNOTATION = `${ANNOTATION_PREFIX}/document-sha256`;
/**
 * Names an existing APIM API (one the operator did not create) that this ExposedAPI takes over. Honoured only where
 * the platform team's TENANCY_POLICY sets allowAdoption for the namespace; the takeover is recorded in an Event.
 */
export const ADOPT_ANNOTATION = `${ANNOTATION_PREFIX}/adopt`;
export const FINALIZER = `${ANNOTATION_PREFIX}/cleanup`;

/** Where the OpenAPI document comes from. `field` is the JSON path it was read at, for error messages. */
export type SpecSource =
  | { kind: 'url'; url: string; version?: string; field: string }
  | { kind: 'inline'; text: string; version?: string; field: string };

export interface JwtSettings {
  openidConfigUrl: string;
  audiences: string[];
  issuers: string[];
  /** Claim name → accepted values (any of them matches); an empty list only requires the claim to be present. */
  requiredClaims: { name: string; values: string[] }[];
}

/** `spec.apim`: what ODA has no field for. Absent values mean "the operator's configured default". */
export interface ApimExtension {
  apiId?: string;
  displayName?: string;
  products: string[];
  tags: string[];
  jwt?: JwtSettings;
  backend: { mode?: 'ingress' | 'url'; url?: string };
  /**
   * Publish each change as a new APIM revision, checked before it is made current (docs/revisions.md): true or false
   * overrides APIM_REVISIONS for this API; absent (unset) = the operator's setting.
   */
  revisions?: boolean;
  /** The ApimTarget to publish into (core/target-selection.ts); absent = chosen by namespace, default, or the operator's. */
  target?: string;
}

/**
 * The normalized spec: what the spec hash covers (core/spec-hash.ts), so every field here is part of the change that
 * starts a Job.
 *
 * RULE for a new field (here, in ApimExtension or in any nested block): when the object does not set it, it
 * normalises to ABSENT (`undefined`, an optional property), never to a default value, '' , [] or {}. canonicalJson
 * drops undefined values, so every stored ExposedAPI keeps its hash; a field that reads as a value when unset changes
 * the hash of every object, and the next operator upgrade starts one Job per ExposedAPI in the cluster (the webhook
 * restamps on the next admitted update; the dispatcher compares the stamp with status.appliedSpecHash). Apply the
 * default where the field is used (policy rendering, the executor), not here. The existing fields below that hold
 * their ODA default when unset (segment, rateLimit.interval, CORS, booleans, '' strings, apim.products/tags/backend)
 * are hashed that way already and must keep exactly those defaults.
 * test/core/spec-hash-golden.test.ts enforces this: add a fixture that sets the new field; never edit a pinned hash.
 */
export interface ExposedApiSpec {
  name: string;
  apiType: string;
  implementation: string;
  path: string;
  port: number;
  developerUI?: string;
  segment: string;
  /** The first entry is the document imported into APIM (an APIM API holds one document). */
  specification: SpecSource[];
  apiKeyVerification: { enabled: boolean; location: string };
  rateLimit: { enabled: boolean; identifier: string; limit: string; interval: string };
  quota: { identifier: string; limit: string };
  oasValidation: {
    requestEnabled: boolean;
    responseEnabled: boolean;
    allowUnspecifiedHeaders: boolean;
    allowUnspecifiedQueryParams: boolean;
    allowUnspecifiedCookies: boolean;
  };
  cors: {
    enabled: boolean;
    allowCredentials: boolean;
    allowOrigins: string[];
    preflight: { enabled: boolean; allowHeaders: string[]; allowMethods: string[]; maxAge: number };
  };
  template: string;
  apim: ApimExtension;
}

export interface ExposedApi {
  /** The served version the object was written in, when recognised. */
  version?: OdaVersion;
  namespace: string;
  name: string;
  uid?: string;
  annotations: Record<string, string>;
  spec: ExposedApiSpec;
}

export interface ModelResult {
  model: ExposedApi;
  /** Shape errors (wrong types, missing required fields); value rules run separately on the model. */
  errors: FieldError[];
}

export const APIM_EXTENSION_FIELDS = ['apiId', 'displayName', 'products', 'tags', 'authentication', 'backend', 'revisions', 'target'] as const;

/** Splits an ODA CSV string ("a, b,c") into trimmed, non-empty items. */
export function splitCsv(csv: string): string[] {
  return csv
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A specification string that is an absolute URL (any scheme) is a reference; anything else is an inline document. */
export function looksLikeUrl(s: string): boolean {
  const t = s.trim();
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/.test(t);
}

function specSourceFromString(s: string, field: string, version?: string): SpecSource {
  return looksLikeUrl(s) ? { kind: 'url', url: s.trim(), version, field } : { kind: 'inline', text: s, version, field };
}

function readSpecificationItem(v: unknown, field: string, errors: FieldError[]): SpecSource | undefined {
  if (typeof v === 'string') return specSourceFromString(v, field);
  if (isObject(v)) {
    const r = new ObjectReader(v, field, errors);
    const url = r.string('url', { required: 'a specification entry needs url: an absolute http(s) URL of the OpenAPI document' });
    const version = r.string('version');
    return url === undefined ? undefined : specSourceFromString(url, r.field('url'), version);
  }
  errors.push(invalid(field, v, 'must be a URL string, an inline OpenAPI document, or an object {url, version}'));
  return undefined;
}

function readSpecification(v: unknown, errors: FieldError[]): SpecSource[] {
  const field = 'spec.specification';
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    return v.flatMap((item, i) => readSpecificationItem(item, `${field}[${i}]`, errors) ?? []);
  }
  const one = readSpecificationItem(v, field, errors);
  return one ? [one] : [];
}

function readJwt(r: ObjectReader): JwtSettings | undefined {
  if (!r.has('jwt')) return undefined;
  const j = r.object('jwt');
  j.rejectUnknown(['openidConfigUrl', 'audiences', 'issuers', 'requiredClaims']);
  const openidConfigUrl = j.string('openidConfigUrl', {
    required: 'the OpenID Connect discovery document URL (https://…/.well-known/openid-configuration) that signs accepted tokens',
  });
  const claims: { name: string; values: string[] }[] = [];
  const rc = j.object('requiredClaims');
  for (const [name, value] of Object.entries(rc.obj)) {
    if (typeof value === 'string') claims.push({ name, values: [value] });
    else if (Array.isArray(value) && value.every((x) => typeof x === 'string')) claims.push({ name, values: value as string[] });
    else if (value === null || (isObject(value) && Object.keys(value).length === 0)) claims.push({ name, values: [] });
    else j.errors.push(invalid(`${rc.path}.${name}`, value, 'must be a string or a list of strings (the accepted claim values)'));
  }
  return {
    openidConfigUrl: openidConfigUrl ?? '',
    audiences: j.stringArray('audiences'),
    issuers: j.stringArray('issuers'),
    requiredClaims: claims,
  };
}

function readApimExtension(spec: ObjectReader): ApimExtension {
  const a = spec.object('apim');
  a.rejectUnknown(APIM_EXTENSION_FIELDS);
  const auth = a.object('authentication');
  auth.rejectUnknown(['jwt']);
  const backend = a.object('backend');
  backend.rejectUnknown(['mode', 'url']);
  const mode = backend.string('mode');
  const url = backend.string('url');
  let backendMode: 'ingress' | 'url' | undefined;
  if (mode === 'ingress' || mode === 'url') backendMode = mode;
  else if (mode !== undefined) a.errors.push(notSupported(backend.field('mode'), mode, ['ingress', 'url']));
  else if (url !== undefined) backendMode = 'url';
  return {
    apiId: a.string('apiId'),
    displayName: a.string('displayName'),
    products: a.stringArray('products'),
    tags: a.stringArray('tags'),
    jwt: readJwt(auth),
    backend: { mode: backendMode, url },
    // Absent when unset (the spec-hash rule above); a wrong type is a field error.
    ...(a.has('revisions') ? { revisions: a.boolean('revisions', false) } : {}),
    target: a.string('target'),
  };
}

function versionOf(apiVersion: unknown): OdaVersion | undefined {
  if (typeof apiVersion !== 'string') return undefined;
  const [group, version] = apiVersion.split('/');
  if (group !== ODA_GROUP) return undefined;
  return (ODA_VERSIONS as readonly string[]).includes(version ?? '') ? (version as OdaVersion) : undefined;
}

/** Builds the normalized model of an ExposedAPI object. Never throws; shape problems come back as field errors. */
export function readExposedApi(obj: unknown): ModelResult {
  const errors: FieldError[] = [];
  const root = isObject(obj) ? obj : {};
  if (!isObject(obj)) errors.push(invalid('<root>', obj, 'an ExposedAPI must be a YAML/JSON object'));
  const version = versionOf(root['apiVersion']);
  if (version === undefined) {
    errors.push(
      notSupported('apiVersion', root['apiVersion'] ?? null, ODA_VERSIONS.map((v) => `${ODA_GROUP}/${v}`)),
    );
  }
  const meta = new ObjectReader(isObject(root['metadata']) ? (root['metadata'] as JsonObject) : {}, 'metadata', errors);
  const annotations: Record<string, string> = {};
  const rawAnnotations = meta.obj['annotations'];
  if (isObject(rawAnnotations)) {
    for (const [k, v] of Object.entries(rawAnnotations)) if (typeof v === 'string') annotations[k] = v;
  }

  if (!isObject(root['spec'])) errors.push(required('spec', 'an ExposedAPI needs a spec'));
  const s = new ObjectReader(isObject(root['spec']) ? (root['spec'] as JsonObject) : {}, 'spec', errors);

  const name = s.string('name', { required: 'the API name from the component, e.g. productcatalogmanagement' }) ?? '';
  const apiType = s.string('apiType', { required: `one of ${API_TYPES[version ?? 'v1'].join(', ')}` }) ?? '';
  const implementation =
    s.string('implementation', { required: 'the name of the Service that implements the API' }) ?? '';
  const path = s.string('path', { required: 'the root path of the API, e.g. /r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4' }) ?? '';
  // NaN marks a missing or mistyped port (already reported), so 0 can still be reported as out of range.
  const port = s.integer('port', { required: 'the Service port, 1-65535' }) ?? Number.NaN;

  const akv = s.object('apiKeyVerification');
  const rl = s.object('rateLimit');
  const q = s.object('quota');
  const oas = s.object('OASValidation');
  const cors = s.object('CORS');
  const pre = cors.object('handlePreflightRequests');

  const model: ExposedApi = {
    version,
    namespace: meta.string('namespace') ?? '',
    name: meta.string('name') ?? '',
    uid: meta.string('uid'),
    annotations,
    spec: {
      name,
      apiType,
      implementation,
      path,
      port,
      developerUI: s.string('developerUI') || undefined,
      segment: s.string('segment') || 'coreFunction',
      specification: readSpecification(s.obj['specification'], errors),
      apiKeyVerification: { enabled: akv.boolean('enabled', false), location: akv.string('location')?.trim() ?? '' },
      rateLimit: {
        enabled: rl.boolean('enabled', false),
        identifier: rl.string('identifier')?.trim() ?? '',
        limit: readLimit(rl),
        interval: rl.string('interval')?.trim() || DEFAULT_RATE_LIMIT_INTERVAL,
      },
      quota: { identifier: q.string('identifier')?.trim() ?? '', limit: readLimit(q) },
      oasValidation: {
        requestEnabled: oas.boolean('requestEnabled', false),
        responseEnabled: oas.boolean('responseEnabled', false),
        allowUnspecifiedHeaders: oas.boolean('allowUnspecifiedHeaders', false),
        allowUnspecifiedQueryParams: oas.boolean('allowUnspecifiedQueryParams', false),
        allowUnspecifiedCookies: oas.boolean('allowUnspecifiedCookies', false),
      },
      cors: {
        enabled: cors.boolean('enabled', false),
        allowCredentials: cors.boolean('allowCredentials', false),
        allowOrigins: splitCsv(readCsv(cors, 'allowOrigins') ?? DEFAULT_CORS_ALLOW_ORIGINS),
        preflight: {
          enabled: pre.boolean('enabled', true),
          allowHeaders: splitCsv(readCsv(pre, 'allowHeaders') ?? DEFAULT_CORS_ALLOW_HEADERS),
          allowMethods: splitCsv(readCsv(pre, 'allowMethods') ?? DEFAULT_CORS_ALLOW_METHODS),
          maxAge: pre.integer('maxAge') ?? DEFAULT_CORS_MAX_AGE,
        },
      },
      template: s.string('template')?.trim() ?? '',
      apim: readApimExtension(s),
    },
  };
  readAzureVariantExtras(s, cors, rl);
  return { model, errors };
}

/** ODA declares limits as strings; the Azure guide's variant writes integers. Accept both, keep the string form. */
function readLimit(r: ObjectReader): string {
  const v = r.obj['limit'];
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  return r.string('limit')?.trim() ?? '';
}

/** CSV fields; an empty string means "use the ODA default" (the component operator emits empty strings). */
function readCsv(r: ObjectReader, key: string): string | undefined {
  const v = r.obj[key];
  if (Array.isArray(v)) {
    // Azure guide variant: a list of strings instead of the canonical CSV string.
    if (v.every((x) => typeof x === 'string')) return v.join(',') || undefined;
    r.errors.push(invalid(r.field(key), v, 'must be a comma-separated string, e.g. "https://a.example, https://b.example"'));
    return undefined;
  }
  const s = r.string(key);
  return s === undefined || s.trim() === '' ? undefined : s;
}

/**
 * Fields of the Azure guide's variant that have no canonical meaning: say how to write them canonically. They reach
 * the webhook only where the installed CRD keeps them (ours, the Azure guide's); the canonical ODA CRD drops them when
 * it stores the object, so the message says so conditionally.
 */
function readAzureVariantExtras(s: ObjectReader, cors: ObjectReader, rl: ObjectReader): void {
  if (rl.has('period')) {
    s.errors.push(forbidden(rl.field('period'), "not an ODA field (the Azure install guide's; where the canonical ODA CRD is installed, it is dropped when the object is stored); use spec.rateLimit.interval: ps (per second) or pm (per minute)", rl.obj['period']));
  }
  if (cors.has('exposeHeaders')) {
    s.errors.push(forbidden(cors.field('exposeHeaders'), 'not an ODA field: the ExposedAPI has no field for the response headers browsers may read (Access-Control-Expose-Headers), and spec.CORS.handlePreflightRequests.allowHeaders is a different list (the request headers a preflight allows); remove it', cors.obj['exposeHeaders']));
  }
  for (const key of ['allowMethods', 'allowHeaders', 'maxAge']) {
    if (cors.has(key)) {
      s.errors.push(forbidden(cors.field(key), `not an ODA field at this level; use spec.CORS.handlePreflightRequests.${key}`, cors.obj[key]));
    }
  }
}
