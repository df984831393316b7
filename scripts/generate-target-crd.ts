// Generates manifests/base/apimtarget-crd.yaml: the ApimTarget CRD (exposedapi-apim.io/v1alpha1, cluster-scoped; why:
// core/apim-target.ts). The schema refuses what it can say (the ARM id's form, the enums, an immutable resourceId);
// core/apim-target.ts reads every object again, since an object may predate a stricter schema.
// Run: node scripts/generate-target-crd.ts  (a test fails when the committed file differs from this output).
import { writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { DRIFT_MODES, TARGET_GROUP, TARGET_KIND, TARGET_PLURAL, TARGET_VERSION, VERSIONING_SCHEMES } from '../core/apim-target.ts';
import { APIM_SKUS } from '../core/apim-tiers.ts';

const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });

const labelSelector = {
  type: 'object',
  description: 'Namespaces (by label) whose ExposedAPIs use this target unless they name one in spec.apim.target. Needs matchLabels or matchExpressions.',
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string' },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

export function targetCrdObject(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${TARGET_PLURAL}.${TARGET_GROUP}`, labels: { 'app.kubernetes.io/part-of': 'exposedapi-apim' } },
    spec: {
      group: TARGET_GROUP,
      scope: 'Cluster',
      names: { plural: TARGET_PLURAL, singular: 'apimtarget', kind: TARGET_KIND, categories: ['exposedapi-apim'] },
      versions: [{
        name: TARGET_VERSION,
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'An Azure API Management instance ExposedAPIs may be published into (docs/apim-targets.md).',
            required: ['spec'],
            properties: {
              spec: {
                type: 'object',
                required: ['resourceId'],
                properties: {
                  resourceId: str('ARM id of the API Management service: /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.ApiManagement/service/<name>. Immutable: to move APIs to another instance, create another ApimTarget.', {
                    pattern: '^/(?i:subscriptions)/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/(?i:resourceGroups)/[-\\w.()]{0,89}[-\\w()]/(?i:providers/Microsoft\\.ApiManagement/service)/[a-zA-Z]([a-zA-Z0-9-]{0,48}[a-zA-Z0-9])?$',
                    'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'resourceId is immutable: create another ApimTarget for another instance and move the ExposedAPIs (spec.apim.target)' }],
                  }),
                  gatewayUrl: str('(optional) Base URL of the gateway, for status.apiStatus.url; default: the service\'s own gatewayUrl'),
                  tier: str('(optional) The service\'s sku.name; admission denies policies the tier lacks', { enum: [...APIM_SKUS] }),
                  identity: {
                    type: 'object',
                    description: 'Who the target\'s Jobs are',
                    properties: {
                      clientId: str('(optional) Client id of the workload identity (AZURE_CLIENT_ID of the Jobs)'),
                      serviceAccountName: str('(optional) ServiceAccount in the operator\'s namespace the Jobs run as; default the executor\'s'),
                    },
                  },
                  namespaceSelector: labelSelector,
                  default: { type: 'boolean', description: '(optional) Used by ExposedAPIs that name no target and whose namespace no selector matches' },
                  cloud: {
                    type: 'object',
                    description: '(optional) Endpoints of another cloud (sovereign clouds, the emulator); default the operator\'s ARM_ENDPOINT and AZURE_AUTHORITY_HOST',
                    properties: { armEndpoint: str('https URL of Azure Resource Manager'), authorityHost: str('https URL of the Entra ID authority') },
                  },
                  versioning: {
                    type: 'object',
                    description: 'APIM version sets of this instance (APIM_VERSIONING_SCHEME, APIM_VERSION_QUERY_NAME, APIM_VERSION_HEADER_NAME)',
                    properties: { scheme: str('Segment (default), Query or Header', { enum: [...VERSIONING_SCHEMES] }), queryName: str('query parameter of the Query scheme'), headerName: str('header of the Header scheme') },
                  },
                  revisions: {
                    type: 'object',
                    description: 'APIM revisions (APIM_REVISIONS, APIM_REVISIONS_KEEP)',
                    properties: { enabled: { type: 'boolean' }, keep: { type: 'integer', minimum: 0, maximum: 100 } },
                  },
                  drift: {
                    type: 'object',
                    description: 'Drift verification (APIM_DRIFT_MODE)',
                    properties: { mode: str('report (default) or repair', { enum: [...DRIFT_MODES] }) },
                  },
                },
              },
            },
          },
        },
        additionalPrinterColumns: [
          { name: 'Resource', type: 'string', jsonPath: '.spec.resourceId' },
          { name: 'Default', type: 'boolean', jsonPath: '.spec.default' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      }],
    },
  };
}

export function targetCrdYaml(): string {
  return '# Generated by scripts/generate-target-crd.ts; edit that script, not this file.\n' + YAML.stringify(targetCrdObject(), { lineWidth: 0 });
}

if (import.meta.main) {
  const target = new URL('../manifests/base/apimtarget-crd.yaml', import.meta.url);
  writeFileSync(target, targetCrdYaml());
  process.stdout.write(`wrote ${target.pathname}\n`);
}
