// An ApimTarget (exposedapi-apim.io/v1alpha1, cluster-scoped): one APIM instance the operator may publish into, named
// by its ARM id, with the identity its Jobs use and the per-instance settings of the operator's env configuration. The
// platform team owns instances (their ARM ids, identities, which namespaces use them), so the resource is cluster-scoped
// like an IngressClass or a StorageClass: a tenant may name one (spec.apim.target) but never create or change one, and
// the tenancy policy says which names a namespace may use. Pure: reading and validating an object, and what a Job of
// the target gets in its environment. The apiserver validates the same shape with the CRD's schema
// (scripts/generate-target-crd.ts); this reader is the one the dispatcher and the webhook trust, since a CRD installed
// by an older chart, or an object written before it, may hold anything.
import { createHash } from 'node:crypto';
import { invalid, notSupported, required, type FieldError } from './field-error.ts';
import { isObject, ObjectReader, type JsonObject } from './object-reader.ts';
import { APIM_SKUS, knownSku, type ApimSku } from './apim-tiers.ts';
import { CONTROL_CHARS, isHttpUrl } from './http-tokens.ts';
import { VERSIONING_SCHEMES } from './api-versioning.ts';

/** The operator's own API group (the annotation prefix of core/exposedapi-model.ts). */
export const TARGET_GROUP = 'exposedapi-apim.io';
export const TARGET_VERSION = 'v1alpha1';
export const TARGET_KIND = 'ApimTarget';
export const TARGET_PLURAL = 'apimtargets';

// The versioning schemes of an APIM version set: one list with the executor's (core/api-versioning.ts).
export { VERSIONING_SCHEMES };
export const DRIFT_MODES = ['report', 'repair'] as const;

/**
 * ARM id of an API Management service. ARM compares ids case-insensitively, so the fixed segments are matched so
 * too; the subscription is a GUID, the resource group ARM's 1-90 characters (letters, digits, "_", "-", ".", "(",
 * ")", not ending in "."), the service name APIM's 1-50 letters, digits and "-", starting with a letter.
 */
const SERVICE_ID = /^\/subscriptions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/resourceGroups\/([-\w.()]{0,89}[-\w()])\/providers\/Microsoft\.ApiManagement\/service\/([a-z](?:[a-z0-9-]{0,48}[a-z0-9])?)$/i;
/** A DNS-1123 subdomain: what Kubernetes allows as the name of a cluster-scoped object. */
export const TARGET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const TARGET_NAME_MAX = 253;
const SERVICE_ACCOUNT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Query parameter and header names of a version set: tokens, so nothing reaches APIM as markup or an expression. */
const VERSION_PARAMETER = /^[A-Za-z0-9!#$%*+\-.^_`|~]{1,100}$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export interface ServiceId {
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: (typeof SELECTOR_OPERATORS)[number];
  values: string[];
}

/** metav1.LabelSelector: every matchLabels pair and every requirement must hold; an empty selector matches nothing here. */
export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelSelectorRequirement[];
}

export interface ApimTarget {
  name: string;
  /** The ARM id as written, and its parts. */
  resourceId: string;
  service: ServiceId;
  /** The gateway's base URL without a trailing slash; absent = read from the service (properties.gatewayUrl). */
  gatewayUrl?: string;
  tier?: ApimSku;
  identity: { clientId?: string; serviceAccountName?: string };
  namespaceSelector?: LabelSelector;
  default: boolean;
  /** Another cloud's endpoints (sovereign clouds; the emulator in tests and the sandbox); absent = the operator's. */
  cloud: { armEndpoint?: string; authorityHost?: string };
  versioning?: { scheme?: (typeof VERSIONING_SCHEMES)[number]; queryName?: string; headerName?: string };
  revisions?: { enabled?: boolean; keep?: number };
  drift?: { mode?: (typeof DRIFT_MODES)[number] };
}

export type TargetRead = { ok: true; name: string; target: ApimTarget } | { ok: false; name: string; errors: FieldError[] };

/** The parts of an APIM service's ARM id, or undefined when it is not one. */
export function parseServiceId(id: string): ServiceId | undefined {
  const m = SERVICE_ID.exec(id);
  if (!m || id.endsWith('.')) return undefined;
  return { subscriptionId: m[1]!.toLowerCase(), resourceGroup: m[2]!, serviceName: m[3]! };
}

/** The ARM id of a service, in ARM's own spelling: what the executor records in status.apim.resourceId. */
export function serviceIdOf(s: ServiceId): string {
  return `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}/providers/Microsoft.ApiManagement/service/${s.serviceName}`;
}

/** ARM ids compare case-insensitively. */
export function sameServiceId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

function readSelector(r: ObjectReader): LabelSelector | undefined {
  if (!r.has('namespaceSelector')) return undefined;
  const s = r.object('namespaceSelector');
  const selector: LabelSelector = { matchLabels: {}, matchExpressions: [] };
  const labels = s.obj['matchLabels'];
  if (labels !== undefined && labels !== null) {
    if (!isObject(labels)) s.errors.push(invalid(s.field('matchLabels'), labels, 'must be a map of label keys to values'));
    else {
      for (const [k, v] of Object.entries(labels)) {
        if (!LABEL_KEY.test(k)) s.errors.push(invalid(`${s.field('matchLabels')}.${k}`, k, 'must be a label key, e.g. exposedapi-apim.io/target'));
        else if (typeof v !== 'string' || !LABEL_VALUE.test(v)) s.errors.push(invalid(`${s.field('matchLabels')}.${k}`, v, 'must be a label value: at most 63 letters, digits, "-", "_", "."'));
        else selector.matchLabels[k] = v;
      }
    }
  }
  const expressions = s.obj['matchExpressions'];
  if (expressions !== undefined && expressions !== null) {
    if (!Array.isArray(expressions)) s.errors.push(invalid(s.field('matchExpressions'), expressions, 'must be a list of {key, operator, values}'));
    else {
      expressions.forEach((raw: unknown, i: number) => {
        const e = new ObjectReader(isObject(raw) ? raw : {}, `${s.field('matchExpressions')}[${i}]`, s.errors);
        const key = e.string('key', { required: 'a label key' }) ?? '';
        const operator = e.string('operator', { required: `one of ${SELECTOR_OPERATORS.join(', ')}` }) ?? '';
        const values = e.stringArray('values');
        if (key !== '' && !LABEL_KEY.test(key)) e.errors.push(invalid(e.field('key'), key, 'must be a label key'));
        if (operator !== '' && !(SELECTOR_OPERATORS as readonly string[]).includes(operator)) e.errors.push(notSupported(e.field('operator'), operator, SELECTOR_OPERATORS));
        const needsValues = operator === 'In' || operator === 'NotIn';
        if (needsValues && values.length === 0) e.errors.push(required(e.field('values'), `${operator} needs at least one value`));
        if (!needsValues && values.length > 0) e.errors.push(invalid(e.field('values'), values, `must be empty with ${operator}`));
        selector.matchExpressions.push({ key, operator: operator as LabelSelectorRequirement['operator'], values });
      });
    }
  }
  const written = (isObject(labels) ? Object.keys(labels).length : 0) + (Array.isArray(expressions) ? expressions.length : 0);
  if (written === 0) {
    // Kubernetes reads an empty selector as "everything"; here that would silently capture every namespace.
    s.errors.push(invalid(s.path, s.obj, 'must have matchLabels or matchExpressions; to use the target for every namespace without a choice of its own, set spec.default: true'));
  }
  return selector;
}

/** Reads and validates an ApimTarget object. Never throws; every problem comes back with its field and the fix. */
export function readApimTarget(obj: unknown): TargetRead {
  const errors: FieldError[] = [];
  const root: JsonObject = isObject(obj) ? obj : {};
  const meta = isObject(root['metadata']) ? root['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  if (!TARGET_NAME.test(name) || name.length > TARGET_NAME_MAX) errors.push(invalid('metadata.name', name, 'must be a DNS subdomain name (lower-case letters, digits, "-" and ".")'));
  const spec = new ObjectReader(isObject(root['spec']) ? root['spec'] : {}, 'spec', errors);
  if (!isObject(root['spec'])) errors.push(required('spec', 'an ApimTarget needs a spec with its resourceId'));
  const known = ['resourceId', 'gatewayUrl', 'tier', 'identity', 'namespaceSelector', 'default', 'cloud', 'versioning', 'revisions', 'drift'];
  spec.rejectUnknown(known);

  const resourceId = spec.string('resourceId', { required: 'the ARM id of the API Management service, e.g. /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.ApiManagement/service/<name>' }) ?? '';
  const service = resourceId === '' ? undefined : parseServiceId(resourceId);
  if (resourceId !== '' && !service) {
    errors.push(invalid('spec.resourceId', resourceId, 'must be the ARM id of an API Management service: /subscriptions/<subscription GUID>/resourceGroups/<group>/providers/Microsoft.ApiManagement/service/<service name>'));
  }
  const url = (field: ObjectReader, key: string, httpsOnly: boolean): string | undefined => {
    const v = field.string(key);
    if (v === undefined || v === '') return undefined;
    if (!isHttpUrl(v, { httpsOnly }) || CONTROL_CHARS.test(v)) {
      errors.push(invalid(field.field(key), v, `must be an absolute ${httpsOnly ? 'https' : 'http(s)'} URL`));
      return undefined;
    }
    return trimSlash(v);
  };
  const gatewayUrl = url(spec, 'gatewayUrl', false);
  const tierText = spec.string('tier');
  const tier = tierText === undefined ? undefined : knownSku(tierText);
  if (tierText !== undefined && !tier) errors.push(notSupported('spec.tier', tierText, APIM_SKUS, 'the service\'s sku.name'));

  const id = spec.object('identity');
  id.rejectUnknown(['clientId', 'serviceAccountName']);
  const clientId = id.string('clientId');
  if (clientId !== undefined && !GUID.test(clientId)) errors.push(invalid('spec.identity.clientId', clientId, 'must be the client id (a GUID) of the managed identity or application the target\'s Jobs authenticate as'));
  const serviceAccountName = id.string('serviceAccountName');
  if (serviceAccountName !== undefined && (!SERVICE_ACCOUNT.test(serviceAccountName) || serviceAccountName.length > 253)) {
    errors.push(invalid('spec.identity.serviceAccountName', serviceAccountName, 'must be the name of a ServiceAccount in the operator\'s namespace'));
  }

  const cloud = spec.object('cloud');
  cloud.rejectUnknown(['armEndpoint', 'authorityHost']);
  const armEndpoint = url(cloud, 'armEndpoint', true);
  const authorityHost = url(cloud, 'authorityHost', true);

  let versioning: ApimTarget['versioning'];
  if (spec.has('versioning')) {
    const v = spec.object('versioning');
    v.rejectUnknown(['scheme', 'queryName', 'headerName']);
    const scheme = v.string('scheme');
    if (scheme !== undefined && !(VERSIONING_SCHEMES as readonly string[]).includes(scheme)) errors.push(notSupported('spec.versioning.scheme', scheme, VERSIONING_SCHEMES));
    const token = (key: string): string | undefined => {
      const t = v.string(key);
      if (t !== undefined && !VERSION_PARAMETER.test(t)) errors.push(invalid(v.field(key), t, 'must be a token: letters, digits and !#$%*+-.^_`|~, at most 100 characters'));
      return t;
    };
    versioning = { scheme: scheme as NonNullable<ApimTarget['versioning']>['scheme'], queryName: token('queryName'), headerName: token('headerName') };
  }
  let revisions: ApimTarget['revisions'];
  if (spec.has('revisions')) {
    const v = spec.object('revisions');
    v.rejectUnknown(['enabled', 'keep']);
    const keep = v.integer('keep');
    if (keep !== undefined && (keep < 0 || keep > 100)) errors.push(invalid('spec.revisions.keep', keep, 'must be between 0 and 100 (old revisions kept)'));
    revisions = { enabled: v.has('enabled') ? v.boolean('enabled', false) : undefined, keep };
  }
  let drift: ApimTarget['drift'];
  if (spec.has('drift')) {
    const v = spec.object('drift');
    v.rejectUnknown(['mode']);
    const mode = v.string('mode');
    if (mode !== undefined && !(DRIFT_MODES as readonly string[]).includes(mode)) errors.push(notSupported('spec.drift.mode', mode, DRIFT_MODES));
    drift = { mode: mode as NonNullable<ApimTarget['drift']>['mode'] };
  }

  const target: ApimTarget = {
    name,
    resourceId,
    service: service ?? { subscriptionId: '', resourceGroup: '', serviceName: '' },
    gatewayUrl,
    tier,
    identity: { clientId, serviceAccountName },
    namespaceSelector: readSelector(spec),
    default: spec.boolean('default', false),
    cloud: { armEndpoint, authorityHost },
    versioning,
    revisions,
    drift,
  };
  return errors.length > 0 ? { ok: false, name, errors } : { ok: true, name, target };
}

/** Whether a namespace's labels satisfy a selector (metav1.LabelSelector semantics). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export interface EnvVar {
  name: string;
  value: string;
}

/**
 * What a Job of this target gets in its environment, over the operator's ConfigMap (a container's `env` wins over its
 * `envFrom`). The instance's identity is always set, even to '' (= unset for the executor's reader): a target without
 * a gateway URL or tier must not inherit the ones the ConfigMap gives for the operator's own instance. The settings
 * blocks set only what they name; the rest keeps the ConfigMap's default.
 */
export function targetJobEnv(t: ApimTarget): EnvVar[] {
  const env: EnvVar[] = [
    { name: 'APIM_TARGET', value: t.name },
    { name: 'APIM_TARGET_SETTINGS', value: appliedSettingsHash(t) },
    { name: 'APIM_SUBSCRIPTION_ID', value: t.service.subscriptionId },
    { name: 'APIM_RESOURCE_GROUP', value: t.service.resourceGroup },
    { name: 'APIM_SERVICE_NAME', value: t.service.serviceName },
    { name: 'APIM_GATEWAY_URL', value: t.gatewayUrl ?? '' },
    { name: 'APIM_SKU', value: t.tier ?? '' },
  ];
  const add = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined) env.push({ name, value: typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value) });
  };
  add('AZURE_CLIENT_ID', t.identity.clientId);
  add('ARM_ENDPOINT', t.cloud.armEndpoint);
  // The token's audience follows the ARM endpoint; a scope the ConfigMap sets for the operator's cloud would not.
  add('ARM_SCOPE', t.cloud.armEndpoint === undefined ? undefined : `${t.cloud.armEndpoint}/.default`);
  add('AZURE_AUTHORITY_HOST', t.cloud.authorityHost);
  add('APIM_VERSIONING_SCHEME', t.versioning?.scheme);
  add('APIM_VERSION_QUERY_NAME', t.versioning?.queryName);
  add('APIM_VERSION_HEADER_NAME', t.versioning?.headerName);
  add('APIM_REVISIONS', t.revisions?.enabled);
  add('APIM_REVISIONS_KEEP', t.revisions?.keep);
  add('APIM_DRIFT_MODE', t.drift?.mode);
  return env;
}

/**
 * The settings that change what an apply leaves in APIM or in the ExposedAPI's status: the instance, its gateway URL
 * (status.apiStatus.url), the cloud it is reached in and the versioning scheme. A change of these re-dispatches the
 * target's ExposedAPIs; a change of anything else (identity, selector, default, tier, revisions, drift) does not —
 * it applies to the next Job. 16 hex digits of SHA-256 over their canonical JSON: recorded by the executor in
 * status.apim.targetSettings, compared by the dispatcher.
 */
export function appliedSettingsHash(t: ApimTarget): string {
  const v = t.versioning;
  const canonical = JSON.stringify([
    t.resourceId.toLowerCase(),
    t.gatewayUrl ?? '',
    t.cloud.armEndpoint ?? '',
    v?.scheme ?? '',
    v?.queryName ?? '',
    v?.headerName ?? '',
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
