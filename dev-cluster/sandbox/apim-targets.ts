// The sandbox's two APIM instances (issue 16; docs/apim-targets.md): the operator's own instance (the first emulator,
// the ConfigMap's APIM_*) and a second emulator with its own service name, in the same emulator home (one CA, one
// application, as one Entra ID tenant has). An ApimTarget names each; the second selects the namespace
// `sandbox-secondary` by label, where the sandbox applies one example ExposedAPI: it lands in the second emulator
// only, while the examples of the sandbox namespace stay on the first.
import type { ApimEmulator } from '../../emulator/apim-emulator.ts';

type Obj = Record<string, any>;

export const SECONDARY_NAMESPACE = 'sandbox-secondary';
export const SECONDARY_SERVICE = 'apim-emulator-secondary';
export const PRIMARY_TARGET = 'sandbox-primary';
export const SECONDARY_TARGET = 'sandbox-secondary';
/** The label the second target's namespaceSelector matches. */
export const TARGET_NAMESPACE_LABEL = 'exposedapi-apim.io/target';

function resourceIdOf(emulator: Pick<ApimEmulator, 'subscriptionId' | 'resourceGroup' | 'serviceName'>): string {
  return `/subscriptions/${emulator.subscriptionId}/resourceGroups/${emulator.resourceGroup}/providers/Microsoft.ApiManagement/service/${emulator.serviceName}`;
}

function target(name: string, emulator: ApimEmulator, extra: Obj = {}): Obj {
  return {
    apiVersion: 'exposedapi-apim.io/v1alpha1',
    kind: 'ApimTarget',
    metadata: { name },
    spec: {
      resourceId: resourceIdOf(emulator),
      // The emulator is its own ARM endpoint and token authority: another "cloud" to the Jobs.
      cloud: { armEndpoint: emulator.url, authorityHost: emulator.authorityHost },
      ...extra,
    },
  };
}

/** The ApimTargets, the second instance's namespace (labelled for its selector) and the Service its example uses. */
export function sandboxTargetObjects(primary: ApimEmulator, secondary: ApimEmulator): Obj[] {
  return [
    target(PRIMARY_TARGET, primary),
    target(SECONDARY_TARGET, secondary, { namespaceSelector: { matchLabels: { [TARGET_NAMESPACE_LABEL]: SECONDARY_TARGET } } }),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SECONDARY_NAMESPACE, labels: { [TARGET_NAMESPACE_LABEL]: SECONDARY_TARGET } } },
  ];
}

/**
 * The example of the second instance, chosen by its namespace: the same path as examples/productcatalog-core.yaml,
 * which the first instance holds — paths are unique per instance, not per cluster.
 */
export function secondaryExample(): Obj {
  return {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'secondary-productcatalogmanagement-productcatalogmanagement-v4', namespace: SECONDARY_NAMESPACE },
    spec: {
      name: 'productcatalogmanagement',
      apiType: 'openapi',
      implementation: 'sandbox-prodcatapi',
      path: '/sandbox-productcatalogmanagement/tmf-api/productCatalogManagement/v4',
      port: 8080,
      specification: { url: '${SANDBOX_SPEC_BASE}/TMF620-ProductCatalog-v4.0.0.swagger.json', version: 'v4.0.0' },
    },
  };
}
