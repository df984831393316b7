// Everything one emulated service holds, as one JSON document (GET /_emulator/state): APIs with their operations,
// policies and links, every other entity family, the imports still running and the request counts. Arrays of named
// entities rather than maps keyed by lower-cased names, so assertions read naturally.
import type { ApimService } from './apim-service.ts';
import type { RequestCountsSnapshot } from './request-counts.ts';
import type { JsonObject, OperationEntity, PolicyEntity, SimpleEntity } from './service-model.ts';
import { key } from './service-model.ts';

export interface PolicySnapshot {
  etag: string;
  format: 'xml' | 'rawxml';
  xml: string;
  raw: string;
}

export interface ApiSnapshot {
  name: string;
  etag: string;
  properties: JsonObject;
  operations: OperationEntity[];
  policy: PolicySnapshot | null;
  tags: string[];
  products: string[];
}

export interface ServiceSnapshot {
  service: { subscriptionId: string; resourceGroup: string; serviceName: string; sku: string; id: string };
  apis: ApiSnapshot[];
  products: (SimpleEntity & { apis: string[] })[];
  tags: SimpleEntity[];
  openidConnectProviders: SimpleEntity[];
  backends: SimpleEntity[];
  policyFragments: (SimpleEntity & { policy: PolicySnapshot })[];
  namedValues: SimpleEntity[];
  apiVersionSets: SimpleEntity[];
  /** Subscriptions with their keys (the admin API shows secrets; keep the emulator on loopback). */
  subscriptions: SimpleEntity[];
  policy: PolicySnapshot | null;
  importsInProgress: string[];
  requests: RequestCountsSnapshot;
}

function policy(p: PolicyEntity | undefined): PolicySnapshot | null {
  return p ? { etag: p.etag, format: p.format, xml: p.xml, raw: p.raw } : null;
}

export function serviceSnapshot(svc: ApimService, requests: RequestCountsSnapshot): ServiceSnapshot {
  const d = structuredClone(svc.data);
  const productsOf = (apiKey: string): string[] =>
    Object.entries(d.productApis)
      .filter(([, apis]) => apis.includes(apiKey))
      .map(([pk]) => d.products[pk]?.name ?? pk);
  return {
    service: { ...svc.identity, sku: svc.settings.sku, id: svc.resourceId() },
    apis: Object.values(d.apis).map((a) => ({
      name: a.name,
      etag: a.etag,
      properties: a.properties,
      operations: Object.values(a.operations),
      policy: policy(a.policy),
      tags: a.tags,
      products: productsOf(key(a.name)),
    })),
    products: Object.values(d.products).map((p) => ({
      ...p,
      apis: (d.productApis[key(p.name)] ?? []).map((k) => d.apis[k]?.name ?? k),
    })),
    tags: Object.values(d.tags),
    openidConnectProviders: Object.values(d.openidConnectProviders),
    backends: Object.values(d.backends),
    policyFragments: Object.values(d.policyFragments).map((f) => ({ ...f, policy: policy(f.policy)! })),
    namedValues: Object.values(d.namedValues),
    apiVersionSets: Object.values(d.apiVersionSets),
    subscriptions: Object.values(d.subscriptions ?? {}),
    policy: policy(d.policy),
    importsInProgress: [...svc.importing.values()].map((op) => op.resourcePath.replace(/^\/apis\//, '')),
    requests,
  };
}
