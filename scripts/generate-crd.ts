// Generates manifests/base/crd.yaml: our ExposedAPI CRD, compatible with the canonical ODA CRD (same group, kind,
// versions and fields; v1 storage; no conversion; no status subresource, like the canonical one), with two deliberate
// differences: `specification` accepts every shape ODA has used in any version (so the Azure guide's inline document
// and a v1 object written through v1beta3 are stored, and the webhook judges them), and `spec.apim` is documented.
// Run: node scripts/generate-crd.ts  (a test fails when the committed file differs from this output).
import { writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { API_TYPES, ODA_VERSIONS, SEGMENTS, type OdaVersion } from '../core/exposedapi-model.ts';

const str = (description: string) => ({ type: 'string', description });
const bool = (description: string) => ({ type: 'boolean', description });

function specSchema(version: OdaVersion): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    name: str('Name of the API (from the component, not the Kubernetes name)'),
    specification: {
      description:
        'Where the OpenAPI document is: a URL string, a list of URL strings (v1beta3), a list of {url, version} (v1beta4), a single {url, version} (v1), or the whole document inline (Azure install guide variant). Omitted for prometheus, openmetrics and mcp APIs.',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    apiType: { type: 'string', enum: [...API_TYPES[version]], description: 'The type of API specification.' },
    apiKeyVerification: {
      type: 'object',
      description: '(optional) Require an API key (in APIM: a subscription key).',
      properties: {
        enabled: bool('(default: false) Enforce verification of API key'),
        location: str('(optional) Where the key is read: empty, "header" or "query" keep APIM\'s names (Ocp-Apim-Subscription-Key / subscription-key); a name is used for both header and query; "header:<name>" or "query:<name>" set one.'),
      },
    },
    rateLimit: {
      type: 'object',
      description: '(optional) The rate limit configuration for the API (APIM rate-limit-by-key).',
      properties: {
        enabled: bool('(default: false)'),
        identifier: str('What the counter is keyed by: IP (default), subscription, header:<name>, query:<name>, claim:<name>, or a name for one shared counter'),
        limit: str('The limit (count) of requests to allow for each identifier, a positive whole number as a string'),
        interval: str('(default: ps) ps = per second, pm = per minute'),
      },
    },
    quota: {
      type: 'object',
      description: '(optional) Quota configuration (APIM quota-by-key; the renewal period is the operator\'s QUOTA_RENEWAL_PERIOD_SECONDS).',
      properties: { identifier: str('Identifier used for each quota counter (same forms as rateLimit.identifier)'), limit: str('Quota counter limit for each identifier') },
    },
    OASValidation: {
      type: 'object',
      description: '(optional) Validate the request or response against the OpenAPI document',
      properties: {
        requestEnabled: bool('(default: false) Enable for the incoming request'),
        responseEnabled: bool('(default: false) Enable for the response'),
        allowUnspecifiedHeaders: bool('(default: false) (request only) Allow headers not in the OAS'),
        allowUnspecifiedQueryParams: bool('(default: false) (request only) Allow query parameters not in the OAS'),
        allowUnspecifiedCookies: bool('(default: false) (request only) Allow cookies not in the OAS'),
      },
    },
    CORS: {
      type: 'object',
      description: '(optional) Cross-origin Resource Sharing',
      properties: {
        enabled: bool('(default: false)'),
        allowCredentials: bool('(default: false) Translates to Access-Control-Allow-Credentials; not allowed with origin "*"'),
        allowOrigins: str('(default: *) CSV of origins, each "*" or scheme://host[:port]'),
        handlePreflightRequests: {
          type: 'object',
          description: '(optional) Configuration for handling preflight OPTIONS requests',
          properties: {
            enabled: bool('(default: true) Answer OPTIONS preflight requests'),
            allowHeaders: str('(default: Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers) CSV of header names'),
            allowMethods: str('(default: GET, POST, HEAD, OPTIONS) CSV of HTTP methods'),
            maxAge: { type: 'integer', description: '(default: 1800) Seconds a client may cache the preflight result' },
          },
        },
      },
    },
    template: str('(optional) Name of an APIM policy fragment included in the API policy'),
    implementation: str('The name of the Service that implements the API'),
    path: str('The root path of the API, e.g. /r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4'),
    developerUI: str('(optional) The path of the developer UI of the API'),
    port: { type: 'integer', description: 'The Service port where the API is exposed' },
    resources: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, description: '(optional) Resources exposed by the API' },
    required: bool('Whether the API is required'),
    apim: {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      description:
        'exposedapi-apim extension for what ODA has no field for. Unknown keys are kept so that the admission webhook can reject typos instead of the apiserver silently pruning them.',
      properties: {
        apiId: str('APIM API id (1-80 characters, not * # & + : < > ? / % or whitespace); default derived from namespace and name'),
        displayName: str('APIM display name (1-300 characters); default spec.name'),
        products: { type: 'array', items: { type: 'string' }, description: 'APIM product ids to link the API to (in addition to the operator defaults)' },
        tags: { type: 'array', items: { type: 'string' }, description: 'APIM tag ids to assign' },
        authentication: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: {
            jwt: {
              type: 'object',
              'x-kubernetes-preserve-unknown-fields': true,
              description: 'Validate a bearer JWT (APIM validate-jwt)',
              properties: {
                openidConfigUrl: str('https URL of the OpenID Connect discovery document'),
                audiences: { type: 'array', items: { type: 'string' } },
                issuers: { type: 'array', items: { type: 'string' } },
                requiredClaims: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'claim name -> accepted value or list of values' },
              },
            },
          },
        },
        backend: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          description: 'How APIM reaches the implementation',
          properties: { mode: str('ingress (default: the operator\'s route) or url'), url: str('absolute http(s) URL when mode is url') },
        },
        revisions: bool('(optional) Publish each change as a new APIM revision, checked before it is made current; unset = the operator\'s APIM_REVISIONS (docs/revisions.md)'),
        target: str('(optional) Name of the ApimTarget to publish into; default: the one whose namespaceSelector matches the namespace, else the default one, else the operator\'s own instance'),
      },
    },
  };
  if (version === 'v1') {
    properties['segment'] = { type: 'string', enum: [...SEGMENTS], description: '(optional, default coreFunction) The segment of the component where this API is defined' };
  }
  return {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    properties,
    required: ['name', 'apiType', 'implementation', 'path', 'port'],
  };
}

export function crdObject(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'exposedapis.oda.tmforum.org', labels: { 'app.kubernetes.io/part-of': 'exposedapi-apim' } },
    spec: {
      group: 'oda.tmforum.org',
      scope: 'Namespaced',
      names: { plural: 'exposedapis', singular: 'exposedapi', kind: 'ExposedAPI' },
      versions: [...ODA_VERSIONS].reverse().map((name) => ({
        name,
        served: true,
        storage: name === 'v1',
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: { spec: specSchema(name), status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        },
        additionalPrinterColumns: [
          { name: 'API_endpoint', type: 'string', description: 'API endpoint Url', jsonPath: '.status.apiStatus.url' },
          { name: 'Implementation_ready', type: 'string', description: 'API implementation is ready', jsonPath: '.status.implementation.ready' },
        ],
      })),
    },
  };
}

export function crdYaml(): string {
  return '# Generated by scripts/generate-crd.ts; edit that script, not this file.\n' + YAML.stringify(crdObject(), { lineWidth: 0 });
}

if (import.meta.main) {
  const target = new URL('../manifests/base/crd.yaml', import.meta.url);
  writeFileSync(target, crdYaml());
  process.stdout.write(`wrote ${target.pathname}\n`);
}
