// Makes APIM match the desired state, one entity family at a time, reading before writing so that an unchanged
// ExposedAPI costs reads only: the API (import PUT when its document fingerprint changed, PATCH when only settings
// drifted), its policy (compared in canonical form), its product and tag links, the OpenID Connect provider.
import type { ApiContract } from '@azure/arm-apimanagement';
import type { JwtSettings } from '../core/exposedapi-model.ts';
import type { ExecutorConfig } from '../core/executor-config.ts';
import { ADOPT_ANNOTATION } from '../core/exposedapi-model.ts';
import { creatorNote, describeOwner, ownershipOf, parseMark, type OwnerIdentity } from './api-mark.ts';
import type { Apim } from './apim-client.ts';
import { driftOf, importBody, updateBody, type DesiredApi } from './desired-api.ts';
import type { ImportPlan } from './import-plan.ts';
import { openidProviderContract, openidProviderId } from './openid-provider.ts';
import { samePolicy } from './policy-compare.ts';
import { permanent, renderApimError, StepFailure } from './step-failure.ts';

export interface ApiSyncResult {
  action: 'created' | 'imported' | 'updated' | 'unchanged';
  /** Settings that were corrected without an import. */
  drift: string[];
  /** The API carried no mark and was adopted (it carries ours now). */
  adopted: boolean;
  /** APIs of this same ExposedAPI (an earlier apiId) that held the path and were removed so the import could take it. */
  replaced: string[];
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Who the run works for, and whether it may take over an API that carries no mark (TENANCY_POLICY allowAdoption). */
export interface OwnershipPolicy {
  who: OwnerIdentity;
  /** The ExposedAPI asks to adopt this API id (exposedapi-apim.io/adopt) and its namespace is allowed to. */
  adopt: boolean;
}

/**
 * The one gate before any write to a stored API: ours (our mark), adopted (no mark, adoption granted), or a permanent
 * failure. An API marked by another ExposedAPI, or carrying no mark at all (made by hand, by Bicep, by another tool),
 * is never written.
 */
export function ownershipGate(stored: { apiRevisionDescription?: string }, apiId: string, o: OwnershipPolicy): 'ours' | 'adopted' {
  const own = ownershipOf(stored.apiRevisionDescription, o.who);
  if (own === 'ours') return 'ours';
  if (own === 'other') {
    throw permanent('ApiIdTaken', `APIM API '${apiId}' is managed by ${describeOwner(stored.apiRevisionDescription)}, not by ${o.who.namespace}/${o.who.name}; it is left unchanged: set spec.apim.apiId to an id of its own`);
  }
  if (o.adopt) return 'adopted';
  throw permanent(
    'ApiNotOwned',
    `APIM API '${apiId}' exists and was not created by exposedapi-apim (it carries no ownership mark), so it is never changed or deleted: choose another spec.apim.apiId, or ask the platform team to allow adoption for namespace ${o.who.namespace} (TENANCY_POLICY allowAdoption) and annotate the ExposedAPI ${ADOPT_ANNOTATION}=${apiId}`,
  );
}

/** The API APIM names in a "same Path" refusal ("… with the same Path 'p' as API 'Y' …"). */
export function pathHolderOf(e: unknown): string | undefined {
  if (!(e instanceof StepFailure) || e.info.apim?.status !== 400) return undefined;
  return /with the same Path '[^']*' as API '([^']+)'/.exec(e.info.apim.message)?.[1];
}

/** The stored API, or undefined when APIM has none under that id. */
export function readApi(apim: Apim, apiId: string): Promise<ApiContract | undefined> {
  return apim.find(`reading API '${apiId}'`, () => apim.client.api.get(apim.resourceGroup, apim.serviceName, apiId, apim.options));
}

/** `stored`: the API as read earlier in the run (readApi), so the read could overlap validation. */
export async function syncApi(apim: Apim, desired: DesiredApi, plan: ImportPlan, o: OwnershipPolicy, stored?: ApiContract): Promise<ApiSyncResult> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  const id = desired.apiId;
  const adopted = stored ? ownershipGate(stored, id, o) === 'adopted' : false;
  const replaced: string[] = [];
  if (!stored || adopted || parseMark(stored.apiRevisionDescription).fingerprint !== plan.fingerprint) {
    const how = plan.link ? `${plan.format} from ${plan.value}` : `${plan.format}, ${plan.documentBytes} bytes`;
    const importApi = (): Promise<unknown> => apim.longRunning(`import of API '${id}' into APIM (${how})`, () => client.api.beginCreateOrUpdate(rg, svc, id, importBody(desired, plan), options));
    try {
      await importApi();
    } catch (e) {
      // APIM allows one API per path. If the holder is an API of this same ExposedAPI (an earlier apiId, also one
      // left by a failed first apply), it goes and the import is tried once more; anyone else's API stays.
      const holder = pathHolderOf(e);
      if (holder === undefined || holder.toLowerCase() === id.toLowerCase()) throw e;
      const outcome = await deleteApi(apim, holder, o.who);
      if (outcome === 'not-ours') {
        const other = await readApi(apim, holder);
        const detail = (e as StepFailure).info.apim!;
        throw permanent('PathTaken', `${renderApimError(detail)}. APIM API '${holder}' is managed by ${describeOwner(other?.apiRevisionDescription)} and is left unchanged: choose another spec.path`, detail);
      }
      replaced.push(holder);
      await importApi();
    }
    // What the import stored is checked once: a setting the import did not take is corrected now, not on the next run.
    const after = await apim.call(`reading API '${id}' after its import`, () => client.api.get(rg, svc, id, options));
    // Another writer may have raced this import for the same id (two objects admitted on two replicas): the mark read
    // back says who won, and the loser fails instead of reporting Ready.
    if (ownershipOf(after.apiRevisionDescription, o.who) === 'other') ownershipGate(after, id, o);
    const drift = driftOf(after, desired);
    if (drift.length > 0 || parseMark(after.apiRevisionDescription).fingerprint !== plan.fingerprint) await updateApi(apim, desired);
    return { action: stored ? 'imported' : 'created', drift, adopted, replaced };
  }
  const drift = driftOf(stored, desired);
  if (drift.length === 0) return { action: 'unchanged', drift, adopted, replaced };
  await updateApi(apim, desired);
  return { action: 'updated', drift, adopted, replaced };
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
export async function syncLinks(apim: Apim, apiId: string, want: { products: string[]; tags: string[] }, config: Pick<ExecutorConfig, 'createMissingProducts' | 'createMissingTags'> & { who: OwnerIdentity }): Promise<LinkResult> {
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
          client.product.createOrUpdate(rg, svc, productId, { displayName: productId, description: creatorNote(config.who), subscriptionRequired: true, approvalRequired: false, state: 'published' }, options),
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
  if (exists) {
    // The id is derived from the discovery URL; a provider under that id with another URL was made by someone else
    // and is neither used nor changed.
    if (exists.metadataEndpoint !== jwt.openidConfigUrl) {
      throw permanent('OpenIdProviderConflict', `APIM OpenID Connect provider '${id}' exists with metadata endpoint ${exists.metadataEndpoint ?? '(none)'}, not ${jwt.openidConfigUrl}; it is left unchanged: remove or rename it in APIM`);
    }
    return { id, created: false };
  }
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
 * does not carry this ExposedAPI's mark (api-mark.ts) is left alone.
 */
export async function deleteApi(apim: Apim, apiId: string, who: OwnerIdentity): Promise<ApiDeleteResult> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  const stored = await apim.find(`reading API '${apiId}'`, () => client.api.get(rg, svc, apiId, options));
  if (!stored) return 'absent';
  // Only our own mark allows a delete: an unmarked API (made outside the operator) is never removed.
  if (ownershipOf(stored.apiRevisionDescription, who) !== 'ours') return 'not-ours';
  await syncLinks(apim, apiId, { products: [], tags: [] }, { createMissingProducts: false, createMissingTags: false, who });
  try {
    await apim.longRunning(`deleting API '${apiId}' with its revisions`, () => client.api.beginDelete(rg, svc, apiId, '*', { ...options, deleteRevisions: true }));
  } catch (e) {
    // Deleted meanwhile (a previous run that was killed, or a person): the goal is reached.
    if (e instanceof StepFailure && e.info.apim?.status === 404) return 'absent';
    throw e;
  }
  return 'deleted';
}

/**
 * Every API in the service that carries this ExposedAPI's mark: what a delete removes. Found in APIM, never taken from
 * the ExposedAPI's status (which its tenant can write). One paged list of the service's APIs (100 per page).
 */
export async function listOwnedApis(apim: Apim, who: OwnerIdentity): Promise<string[]> {
  const { client, resourceGroup: rg, serviceName: svc, options } = apim;
  const all = await apim.call(`listing the APIs of APIM service '${svc}'`, () => collect(client.api.listByService(rg, svc, options)));
  return all.filter((a) => a.name && ownershipOf(a.apiRevisionDescription, who) === 'ours').map((a) => a.name!);
}
