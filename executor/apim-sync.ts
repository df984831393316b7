// Makes APIM match the desired state, one entity family at a time, reading before writing so that an unchanged
// ExposedAPI costs reads only: the API (import PUT when its document fingerprint changed, PATCH when only settings
// drifted), its policy (compared in canonical form), its product and tag links, the OpenID Connect provider.
import type { ApiContract } from '@azure/arm-apimanagement';
import type { JwtSettings } from '../core/exposedapi-model.ts';
import type { ExecutorConfig } from '../core/executor-config.ts';
import { parseMark } from './api-mark.ts';
import type { Apim } from './apim-client.ts';
import { driftOf, importBody, updateBody, type DesiredApi } from './desired-api.ts';
import type { ImportPlan } from './import-plan.ts';
import { openidProviderContract, openidProviderId } from './openid-provider.ts';
import { samePolicy } from './policy-compare.ts';
import { permanent, StepFailure } from './step-failure.ts';

export interface ApiSyncResult {
  action: 'created' | 'imported' | 'updated' | 'unchanged';
  /** Settings that were corrected without an import. */
  drift: string[];
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function ownershipCheck(stored: { apiRevisionDescription?: string }, desired: DesiredApi, owner: string, who: string): void {
  const mark = parseMark(stored.apiRevisionDescription);
  if (mark.owner !== undefined && mark.owner !== owner) {
    throw permanent(
      'ApiIdTaken',
      `APIM API '${desired.apiId}' is managed by another ExposedAPI (owner ${mark.owner}, this one is ${who}, owner ${owner}); set spec.apim.apiId to an id of its own`,
    );
  }
}

/** The stored API, or undefined when APIM has none under that id. */
export function readApi(apim: Apim, apiId: string): Promise<ApiContract | undefined> {
  return apim.find(`reading API '${apiId}'`, () => apim.client.api.get(apim.resourceGroup, apim.serviceName, apiId, apim.options));
}

/** `stored`: the API as read earlier in the run (readApi), so the read could overlap validation. */
export async function syncApi(apim: Apim, desired: DesiredApi, plan: ImportPlan, owner: string, who: string, stored?: ApiContract): Promise<ApiSyncResult> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  const id = desired.apiId;
  if (stored) ownershipCheck(stored, desired, owner, who);
  if (!stored || parseMark(stored.apiRevisionDescription).fingerprint !== plan.fingerprint) {
    const how = plan.link ? `${plan.format} from ${plan.value}` : `${plan.format}, ${plan.documentBytes} bytes`;
    await apim.longRunning(`import of API '${id}' into APIM (${how})`, () => client.api.beginCreateOrUpdate(rg, svc, id, importBody(desired, plan), options));
    // What the import stored is checked once: a setting the import did not take is corrected now, not on the next run.
    const after = await apim.call(`reading API '${id}' after its import`, () => client.api.get(rg, svc, id, options));
    const drift = driftOf(after, desired);
    if (drift.length > 0 || parseMark(after.apiRevisionDescription).fingerprint !== plan.fingerprint) await updateApi(apim, desired);
    return { action: stored ? 'imported' : 'created', drift };
  }
  const drift = driftOf(stored, desired);
  if (drift.length === 0) return { action: 'unchanged', drift };
  await updateApi(apim, desired);
  return { action: 'updated', drift };
}

async function updateApi(apim: Apim, desired: DesiredApi): Promise<void> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  await apim.call(`update of API '${desired.apiId}'`, async () => {
    // A fresh ETag on every attempt: a 412 (changed meanwhile) is then retried against the current version.
    const tag = await client.api.getEntityTag(rg, svc, desired.apiId, options);
    return client.api.update(rg, svc, desired.apiId, tag.eTag ?? '*', { ...updateBody(desired), apiRevisionDescription: desired.mark }, options);
  });
}

/** The stored policy document as APIM returns it with format=rawxml, or undefined when the API has none. */
export async function readPolicy(apim: Apim, apiId: string): Promise<string | undefined> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  let raw: string | undefined;
  // apiPolicy.get cannot deserialize the value (azure-sdk-for-js #31566): the raw response body is read instead.
  const found = await apim.find(`reading the policy of API '${apiId}'`, async () => {
    raw = undefined;
    await client.apiPolicy.get(rg, svc, apiId, 'policy', {
      ...options,
      format: 'rawxml',
      onResponse: (response) => {
        if (response.status === 200) raw = response.bodyAsText ?? undefined;
      },
    });
    return true;
  });
  if (!found || raw === undefined) return undefined;
  const body = JSON.parse(raw) as { properties?: { value?: string } };
  return body.properties?.value;
}

export async function syncPolicy(apim: Apim, apiId: string, xml: string): Promise<'applied' | 'unchanged'> {
  const stored = await readPolicy(apim, apiId);
  if (samePolicy(stored, xml)) return 'unchanged';
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  await apim.call(`writing the policy of API '${apiId}'`, () => client.apiPolicy.createOrUpdate(rg, svc, apiId, 'policy', { format: 'xml', value: xml }, options));
  return 'applied';
}

export interface LinkResult {
  linked: string[];
  unlinked: string[];
  created: string[];
}

const lower = (s: string): string => s.toLowerCase();

/**
 * The API's product and tag links become exactly the wanted ones: the API belongs to its ExposedAPI, so a link added
 * by hand is removed (add it to spec.apim or the defaults instead). Products and tags themselves are shared and never
 * deleted; missing ones are created when the configuration allows it.
 */
export async function syncLinks(apim: Apim, apiId: string, want: { products: string[]; tags: string[] }, config: Pick<ExecutorConfig, 'createMissingProducts' | 'createMissingTags'>): Promise<LinkResult> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  const result: LinkResult = { linked: [], unlinked: [], created: [] };
  const [products, tags] = await Promise.all([
    apim.call(`listing the products of API '${apiId}'`, () => collect(client.apiProduct.listByApis(rg, svc, apiId, options))),
    apim.call(`listing the tags of API '${apiId}'`, () => collect(client.tag.listByApi(rg, svc, apiId, options))),
  ]);
  const haveProducts = new Set(products.map((p) => lower(p.name ?? '')));
  const haveTags = new Set(tags.map((t) => lower(t.name ?? '')));
  const wantProducts = new Set(want.products.map(lower));
  const wantTags = new Set(want.tags.map(lower));
  const work: Promise<void>[] = [];

  for (const productId of want.products.filter((p) => !haveProducts.has(lower(p)))) {
    work.push((async () => {
      const exists = await apim.find(`reading product '${productId}'`, () => client.product.get(rg, svc, productId, options));
      if (!exists) {
        if (!config.createMissingProducts) {
          throw permanent('ProductNotFound', `product '${productId}' does not exist in APIM service '${svc}': create it, or set CREATE_MISSING_PRODUCTS=true`);
        }
        await apim.call(`creating product '${productId}'`, () =>
          client.product.createOrUpdate(rg, svc, productId, { displayName: productId, description: 'Created by exposedapi-apim', subscriptionRequired: true, approvalRequired: false, state: 'published' }, options),
        );
        result.created.push(`product/${productId}`);
      }
      await apim.call(`adding API '${apiId}' to product '${productId}'`, () => client.productApi.createOrUpdate(rg, svc, productId, apiId, options));
      result.linked.push(`product/${productId}`);
    })());
  }
  for (const p of products.filter((p) => p.name && !wantProducts.has(lower(p.name)))) {
    work.push(apim.call(`removing API '${apiId}' from product '${p.name}'`, () => client.productApi.delete(rg, svc, p.name!, apiId, options)).then(() => {
      result.unlinked.push(`product/${p.name}`);
    }));
  }
  for (const tagId of want.tags.filter((t) => !haveTags.has(lower(t)))) {
    work.push((async () => {
      const exists = await apim.find(`reading tag '${tagId}'`, () => client.tag.get(rg, svc, tagId, options));
      if (!exists) {
        if (!config.createMissingTags) throw permanent('TagNotFound', `tag '${tagId}' does not exist in APIM service '${svc}': create it, or set CREATE_MISSING_TAGS=true`);
        await apim.call(`creating tag '${tagId}'`, () => client.tag.createOrUpdate(rg, svc, tagId, { displayName: tagId }, options));
        result.created.push(`tag/${tagId}`);
      }
      await apim.call(`tagging API '${apiId}' with '${tagId}'`, () => client.tag.assignToApi(rg, svc, apiId, tagId, options));
      result.linked.push(`tag/${tagId}`);
    })());
  }
  for (const t of tags.filter((t) => t.name && !wantTags.has(lower(t.name)))) {
    work.push(apim.call(`removing tag '${t.name}' from API '${apiId}'`, () => client.tag.detachFromApi(rg, svc, apiId, t.name!, options)).then(() => {
      result.unlinked.push(`tag/${t.name}`);
    }));
  }
  // Every link is attempted even when one fails, so a single bad product does not hide the others' errors.
  const outcomes = await Promise.allSettled(work);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return result;
}

/** The OpenID Connect provider for a discovery URL, created when missing; its id goes into authenticationSettings. */
export async function ensureOpenIdProvider(apim: Apim, jwt: JwtSettings): Promise<{ id: string; created: boolean }> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  const id = openidProviderId(jwt.openidConfigUrl);
  const exists = await apim.find(`reading OpenID Connect provider '${id}'`, () => client.openIdConnectProvider.get(rg, svc, id, options));
  if (exists) return { id, created: false };
  await apim.call(`creating OpenID Connect provider '${id}'`, () => client.openIdConnectProvider.createOrUpdate(rg, svc, id, openidProviderContract(jwt), options));
  return { id, created: true };
}

export async function gatewayUrlOf(apim: Apim): Promise<string> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  const service = await apim.call(`reading APIM service '${svc}'`, () => client.apiManagementService.get(rg, svc, options));
  if (!service.gatewayUrl) throw permanent('GatewayUrlUnknown', `APIM service '${svc}' reports no gatewayUrl; set APIM_GATEWAY_URL`);
  return service.gatewayUrl.replace(/\/+$/, '');
}

export type ApiDeleteResult = 'deleted' | 'absent' | 'not-ours';

/**
 * Removes an API with its revisions and its product and tag links. An API that is already gone is success; one that
 * another ExposedAPI owns (api-mark.ts) is left alone.
 */
export async function deleteApi(apim: Apim, apiId: string, owner: string): Promise<ApiDeleteResult> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  const stored = await apim.find(`reading API '${apiId}'`, () => client.api.get(rg, svc, apiId, options));
  if (!stored) return 'absent';
  const mark = parseMark(stored.apiRevisionDescription);
  if (mark.owner !== undefined && mark.owner !== owner) return 'not-ours';
  await syncLinks(apim, apiId, { products: [], tags: [] }, { createMissingProducts: false, createMissingTags: false });
  try {
    await apim.longRunning(`deleting API '${apiId}' with its revisions`, () => client.api.beginDelete(rg, svc, apiId, '*', { ...options, deleteRevisions: true }));
  } catch (e) {
    // Deleted meanwhile (a previous run that was killed, or a person): the goal is reached.
    if (e instanceof StepFailure && e.info.apim?.status === 404) return 'absent';
    throw e;
  }
  return 'deleted';
}
