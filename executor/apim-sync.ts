// Makes APIM match the desired state, one entity family at a time, reading before writing so that an unchanged
// ExposedAPI costs reads only: the API (import PUT when its document fingerprint changed, PATCH when only settings
// drifted), its policy (compared in canonical form), its product and tag links, the OpenID Connect provider.
import type { JwtSettings } from '../core/exposedapi-model.ts';
import type { ExecutorConfig } from '../core/executor-config.ts';
import { ADOPT_ANNOTATION } from '../core/exposedapi-model.ts';
import { creatorNote, describeOwner, ownershipOf, parseMark, type OwnerIdentity } from './api-mark.ts';
import type { ImportRecord } from '../core/exposedapi-status.ts';
import { operationPending, type Apim } from './apim-client.ts';
import type { ApiContract } from './apim-operations.ts';
import { driftOf, importBody, updateBody, type DesiredApi } from './desired-api.ts';
import { formatElapsed, pollImport, pollingUrlProblem, type ImportProgress } from './import-operation.ts';
import type { ImportPlan } from './import-plan.ts';
import { policyValueOf } from './policy-body.ts';
import { openidProviderContract, openidProviderId } from './openid-provider.ts';
import { samePolicy } from './policy-compare.ts';
import { permanent, renderApimError, retriable, StepFailure } from './step-failure.ts';

export interface ApiSyncResult {
  action: 'created' | 'imported' | 'updated' | 'unchanged';
  /** Settings that were corrected without an import. */
  drift: string[];
  /** The API carried no mark and was adopted (it carries ours now). */
  adopted: boolean;
  /** APIs of this same ExposedAPI (an earlier apiId) that held the path and were removed so the import could take it. */
  replaced: string[];
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
  return apim.find(`reading API '${apiId}'`, () => apim.client.readApi(apiId));
}

/** How imports of this run are found again by the next one (import-operation.ts). */
export interface ImportContext {
  /** An import an earlier run of this ExposedAPI recorded for this API and has not seen end (validated: resumableImport). */
  recorded?: ImportRecord;
  /** Told when an import is accepted ('started': record it) and now and then while one runs. */
  progress?(p: ImportProgress, state: 'started' | 'running'): Promise<void>;
  /**
   * Told once the imported API carries its mark and settings: the record can go. Not before: until then the record
   * is what proves to a retried Job that the unmarked API is this ExposedAPI's import.
   */
  settled?(): Promise<void>;
}

/**
 * The API read again after an import, for up to IMPORT_NOT_FOUND_WINDOW_SECONDS of "Api not found." (the session's
 * 404 window, apim-client.ts); undefined when it is still absent after that, for callers that can import again.
 */
export async function readAfterImport(apim: Apim, apiId: string, orAbsent: boolean): Promise<ApiContract | undefined> {
  apim.importEnded(apiId);
  try {
    return await apim.call(`reading API '${apiId}' after its import`, () => apim.client.readApi(apiId));
  } catch (e) {
    if (orAbsent && e instanceof StepFailure && !e.info.retriable && e.info.apim?.status === 404) return undefined;
    throw e;
  }
}

/**
 * The budget ran out while an import still runs: the failure says so, and for how long (the condition people read),
 * instead of a bare "retry budget exhausted"; the Job's next attempt polls the same import.
 */
function stillImporting(apim: Apim, r: ImportRecord, e: unknown): unknown {
  if (!(e instanceof StepFailure) || !e.info.retriable || !apim.budget.signal.aborted) return e;
  return retriable('ImportInProgress', `APIM is still importing API '${r.apiId}': running for ${formatElapsed(Date.now() - Date.parse(r.startedAt))} (since ${r.startedAt}); the Job's next attempt polls this import again instead of starting another`);
}

/**
 * Waits for an import an earlier run started (it may still be running: APIM answers 409 to writes meanwhile).
 * 'succeeded' is APIM's word that an import of this very API happened (the asyncId is APIM's own); 'ended' means
 * it failed or APIM no longer knows it, and this run decides afresh.
 */
async function awaitRecordedImport(apim: Apim, r: ImportRecord, imports: ImportContext): Promise<'succeeded' | 'ended'> {
  const progress = imports.progress ? (p: ImportProgress) => imports.progress!(p, 'running') : undefined;
  try {
    const outcome = await apim.call(`waiting for the import of API '${r.apiId}' an earlier run started at ${r.startedAt}`, () =>
      pollImport(apim, r, { ...apim.pollOptions, ...(progress ? { progress } : {}) }));
    apim.log.info('an import an earlier run started has ended', { apiId: r.apiId, startedAt: r.startedAt, outcome });
    return outcome === 'succeeded' ? 'succeeded' : 'ended';
  } catch (e) {
    // Its refusal (a bad document) is met again by the import this run makes, with the document of this run.
    if (e instanceof StepFailure && !e.info.retriable) {
      apim.log.warn('an import an earlier run started has failed', { apiId: r.apiId, error: e.message });
      return 'ended';
    }
    throw stillImporting(apim, r, e);
  }
}

/**
 * `stored`: the API as read earlier in the run (readApi), so the read could overlap validation. `imports`: the import
 * an earlier run left running, and where this run records its own (ImportContext).
 */
export async function syncApi(apim: Apim, desired: DesiredApi, plan: ImportPlan, o: OwnershipPolicy, stored?: ApiContract, imports: ImportContext = {}): Promise<ApiSyncResult> {
  const id = desired.apiId;
  // An import an earlier Job started may still run, or may have ended leaving the API without its mark (an import
  // need not apply apiRevisionDescription: importAppliesProperties): it is waited for before anything is written.
  let verified: ImportRecord | undefined;
  if (imports.recorded && (!stored || ownershipOf(stored.apiRevisionDescription, o.who) === 'unmarked')) {
    if ((await awaitRecordedImport(apim, imports.recorded, imports)) === 'succeeded') {
      verified = imports.recorded;
      stored = await readAfterImport(apim, id, true);
    }
  }
  // The one unmarked API that is ours without our mark: the one APIM confirms our recorded import created.
  const ourUnmarked = verified !== undefined && stored !== undefined && ownershipOf(stored.apiRevisionDescription, o.who) === 'unmarked';
  const adopted = stored && !ourUnmarked ? ownershipGate(stored, id, o) === 'adopted' : false;
  const replaced: string[] = [];
  const storedFingerprint = ourUnmarked ? verified!.fingerprint : parseMark(stored?.apiRevisionDescription).fingerprint;
  if (ourUnmarked && storedFingerprint === plan.fingerprint) {
    const drift = await settleImport(apim, desired, plan, o, stored!);
    await imports.settled?.();
    return { action: 'imported', drift, adopted, replaced };
  }
  if (!stored || adopted || storedFingerprint !== plan.fingerprint) {
    const importApi = (): Promise<void> => runImport(apim, desired, plan, imports);
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
    const after = (await readAfterImport(apim, id, false))!;
    const drift = await settleImport(apim, desired, plan, o, after);
    await imports.settled?.();
    return { action: stored ? 'imported' : 'created', drift, adopted, replaced };
  }
  const drift = driftOf(stored, desired);
  if (drift.length === 0) return { action: 'unchanged', drift, adopted, replaced };
  await updateApi(apim, desired);
  return { action: 'updated', drift, adopted, replaced };
}

/**
 * One import PUT of this run, polled to its end through its Location URL (recorded via `imports.progress`, so a later
 * Job finds it again). A retry after a lost poll polls the same import again; a 409 "in progress" to the PUT (an
 * import of an earlier run still running) waits for that one when it is recorded. A synchronous answer needs no
 * polling; an operation with only Azure-AsyncOperation is polled through it (apim-client.ts awaitOperation).
 */
export async function runImport(apim: Apim, desired: DesiredApi, plan: ImportPlan, imports: ImportContext): Promise<void> {
  const id = desired.apiId;
  const how = plan.link ? `${plan.format} from ${plan.value}` : `${plan.format}, ${plan.documentBytes} bytes`;
  const progress = imports.progress ? (p: ImportProgress) => imports.progress!(p, 'running') : undefined;
  const poll = { ...apim.pollOptions, ...(progress ? { progress } : {}) };
  let running: ImportRecord | undefined;
  let waited = false;
  const imported = apim.call(`import of API '${id}' into APIM (${how})`, async () => {
    if (running) {
      const r = running;
      let outcome: 'succeeded' | 'not-found';
      try {
        outcome = await pollImport(apim, r, poll);
      } catch (e) {
        // APIM's answer ended the import (its error); a lost connection did not, and the retry polls it again.
        if ((e as { importEnded?: boolean }).importEnded) running = undefined;
        throw e;
      }
      running = undefined;
      if (outcome === 'not-found') {
        throw permanent('ApiNotFoundAfterImport', `import of API '${id}' into APIM (${how}): polling ${r.operationUrl} answered 404 for longer than ${Math.round(apim.pollOptions.notFoundWindowMs / 1000)} s (IMPORT_NOT_FOUND_WINDOW_SECONDS); if APIM takes longer to show new APIs, raise it`);
      }
      // An import of an earlier run that this run waited for (409 below) was not this run's document: import it now.
      if (!waited || r.fingerprint === plan.fingerprint) return;
    }
    let accepted;
    try {
      accepted = await apim.client.importApi(id, importBody(desired, plan));
    } catch (e) {
      const recorded = imports.recorded;
      // 409: an import is still running, most likely the one an earlier run recorded: it is waited for, not raced.
      if (recorded && !waited && apim.classify(e).reason === 'ApimBusy' && (e as { statusCode?: number }).statusCode === 409) {
        waited = true;
        running = recorded;
      }
      throw e;
    }
    const location = accepted.header('location');
    // Done at once, or an operation without a Location this run could record: polled here, unrecorded.
    if (!operationPending(accepted) || !location || pollingUrlProblem(location, apim.pollOptions.coordinates, id) !== undefined) {
      await apim.awaitOperation(accepted);
      return;
    }
    const record: ImportRecord = { apiId: id, operationUrl: location, startedAt: new Date().toISOString(), fingerprint: plan.fingerprint };
    running = record;
    await imports.progress?.({ record, elapsedMs: 0 }, 'started');
    const outcome = await pollImport(apim, record, poll).catch((e: unknown) => {
      if ((e as { importEnded?: boolean }).importEnded) running = undefined;
      throw e;
    });
    running = undefined;
    if (outcome === 'not-found') {
      throw permanent('ApiNotFoundAfterImport', `import of API '${id}' into APIM (${how}): polling ${record.operationUrl} answered 404 for longer than ${Math.round(apim.pollOptions.notFoundWindowMs / 1000)} s (IMPORT_NOT_FOUND_WINDOW_SECONDS); if APIM takes longer to show new APIs, raise it`);
    }
  });
  await imported.catch((e: unknown) => {
    throw running ? stillImporting(apim, running, e) : e;
  });
}

/**
 * After an import: what it stored is checked once, and what it did not take (an import need not apply the other
 * properties of its PUT, and a re-import resets serviceUrl: azure-cli #29363, Azure/apiops #832; terraform sends
 * them in a second request) is patched now, with the mark. The API was created or imported by this ExposedAPI's own
 * PUT (or its recorded import) under an id the gate cleared, so a missing mark is expected; another ExposedAPI's mark
 * means another writer raced this import and won, and this run fails instead of reporting Ready. The PATCH is
 * conditional on the version read (If-Match): of two racing writers only one marks the API, the other re-reads and
 * finds the winner's mark.
 */
export async function settleImport(apim: Apim, desired: DesiredApi, plan: ImportPlan, o: OwnershipPolicy, after: ApiContract): Promise<string[]> {
  const id = desired.apiId;
  const drift = driftOf(after, desired);
  let current = after;
  let first = true;
  await apim.call(`setting the properties of API '${id}' after its import`, async () => {
    if (!first) current = await apim.client.readApi(id);
    first = false;
    const own = ownershipOf(current.apiRevisionDescription, o.who);
    if (own === 'other') ownershipGate(current, id, o);
    if (own === 'ours' && parseMark(current.apiRevisionDescription).fingerprint === plan.fingerprint && driftOf(current, desired).length === 0) return;
    await apim.client.updateApi(id, current.eTag ?? '*', { ...updateBody(desired), apiRevisionDescription: desired.mark });
  });
  return drift;
}

export async function updateApi(apim: Apim, desired: DesiredApi): Promise<void> {
  await apim.call(`update of API '${desired.apiId}'`, async () => {
    // A fresh ETag on every attempt: a 412 (changed meanwhile) is then retried against the current version.
    const tag = await apim.client.readApiEntityTag(desired.apiId);
    return apim.client.updateApi(desired.apiId, tag ?? '*', { ...updateBody(desired), apiRevisionDescription: desired.mark });
  });
}

/** What the SDK's apiPolicy.get accepts, sent the same: the JSON envelope or either XML media type (azure-sdk-for-js #31566). */
export const POLICY_ACCEPT = 'application/json, application/vnd.ms-azure-apim.policy+xml, application/vnd.ms-azure-apim.policy.raw+xml';

/**
 * The stored policy document as APIM returns it with format=rawxml, or undefined when the API has none. The body is
 * read raw: apiPolicy.get cannot deserialize the value (azure-sdk-for-js #31566), and APIM may answer the bare XML
 * document instead of the JSON envelope (policy-body.ts). A body neither shape reads is logged and treated as no
 * policy: the policy is then written, which costs one write and never skips a change.
 */
export async function readPolicy(apim: Apim, apiId: string): Promise<string | undefined> {
  const url = apim.client.policyUrl(apiId);
  const answer = await apim.call(`reading the policy of API '${apiId}'`, async () => {
    const r = await apim.rawGet(url, POLICY_ACCEPT);
    if (r.status === 404) return undefined;
    if (r.status >= 400) throw r.error();
    return r;
  });
  if (!answer) return undefined;
  const body = policyValueOf(answer.bodyAsText ?? '', answer.header('content-type'));
  if (!body.ok) {
    apim.log.warn('the stored policy could not be read; it is written again', { apiId, problem: body.problem });
    return undefined;
  }
  return body.value;
}

export async function syncPolicy(apim: Apim, apiId: string, xml: string): Promise<'applied' | 'unchanged'> {
  const stored = await readPolicy(apim, apiId);
  if (samePolicy(stored, xml)) return 'unchanged';
  await apim.call(`writing the policy of API '${apiId}'`, () => apim.client.writeApiPolicy(apiId, { format: 'xml', value: xml }));
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
  const { client, serviceName: svc } = apim;
  const result: LinkResult = { linked: [], unlinked: [], created: [] };
  const [products, tags] = await Promise.all([
    apim.call(`listing the products of API '${apiId}'`, () => client.listApiProducts(apiId)),
    apim.call(`listing the tags of API '${apiId}'`, () => client.listApiTags(apiId)),
  ]);
  const haveProducts = new Set(products.map((p) => lower(p.name ?? '')));
  const haveTags = new Set(tags.map((t) => lower(t.name ?? '')));
  const wantProducts = new Set(want.products.map(lower));
  const wantTags = new Set(want.tags.map(lower));
  const work: Promise<void>[] = [];

  for (const productId of want.products.filter((p) => !haveProducts.has(lower(p)))) {
    work.push((async () => {
      const exists = await apim.find(`reading product '${productId}'`, () => client.readProduct(productId));
      if (!exists) {
        if (!config.createMissingProducts) {
          throw permanent('ProductNotFound', `product '${productId}' does not exist in APIM service '${svc}': create it, or set CREATE_MISSING_PRODUCTS=true`);
        }
        await apim.call(`creating product '${productId}'`, () =>
          client.createProduct(productId, { displayName: productId, description: creatorNote(config.who), subscriptionRequired: true, approvalRequired: false, state: 'published' }),
        );
        result.created.push(`product/${productId}`);
      }
      await apim.call(`adding API '${apiId}' to product '${productId}'`, () => client.linkProductApi(productId, apiId));
      result.linked.push(`product/${productId}`);
    })());
  }
  for (const p of products.filter((p) => p.name && !wantProducts.has(lower(p.name)))) {
    work.push(apim.call(`removing API '${apiId}' from product '${p.name}'`, () => client.unlinkProductApi(p.name!, apiId)).then(() => {
      result.unlinked.push(`product/${p.name}`);
    }));
  }
  for (const tagId of want.tags.filter((t) => !haveTags.has(lower(t)))) {
    work.push((async () => {
      const exists = await apim.find(`reading tag '${tagId}'`, () => client.readTag(tagId));
      if (!exists) {
        if (!config.createMissingTags) throw permanent('TagNotFound', `tag '${tagId}' does not exist in APIM service '${svc}': create it, or set CREATE_MISSING_TAGS=true`);
        await apim.call(`creating tag '${tagId}'`, () => client.createTag(tagId, { displayName: tagId }));
        result.created.push(`tag/${tagId}`);
      }
      await apim.call(`tagging API '${apiId}' with '${tagId}'`, () => client.tagApi(apiId, tagId));
      result.linked.push(`tag/${tagId}`);
    })());
  }
  for (const t of tags.filter((t) => t.name && !wantTags.has(lower(t.name)))) {
    work.push(apim.call(`removing tag '${t.name}' from API '${apiId}'`, () => client.untagApi(apiId, t.name!)).then(() => {
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
  const id = openidProviderId(jwt.openidConfigUrl);
  const exists = await apim.find(`reading OpenID Connect provider '${id}'`, () => apim.client.readOpenIdProvider(id));
  if (exists) {
    // The id is derived from the discovery URL; a provider under that id with another URL was made by someone else
    // and is neither used nor changed.
    if (exists.metadataEndpoint !== jwt.openidConfigUrl) {
      throw permanent('OpenIdProviderConflict', `APIM OpenID Connect provider '${id}' exists with metadata endpoint ${exists.metadataEndpoint ?? '(none)'}, not ${jwt.openidConfigUrl}; it is left unchanged: remove or rename it in APIM`);
    }
    return { id, created: false };
  }
  await apim.call(`creating OpenID Connect provider '${id}'`, () => apim.client.createOpenIdProvider(id, openidProviderContract(jwt)));
  return { id, created: true };
}

/** The service's gateway URL, from the session's one GET of the service (service-tier.ts reads the same answer). */
export async function gatewayUrlOf(apim: Apim): Promise<string> {
  const service = await apim.service();
  if (!service.gatewayUrl) throw permanent('GatewayUrlUnknown', `APIM service '${apim.serviceName}' reports no gatewayUrl; set APIM_GATEWAY_URL`);
  return service.gatewayUrl.replace(/\/+$/, '');
}

export type ApiDeleteResult = 'deleted' | 'absent' | 'not-ours';

/**
 * Removes an API with its revisions and its product and tag links. An API that is already gone is success; one that
 * does not carry this ExposedAPI's mark (api-mark.ts) is left alone.
 */
export async function deleteApi(apim: Apim, apiId: string, who: OwnerIdentity): Promise<ApiDeleteResult> {
  const stored = await apim.find(`reading API '${apiId}'`, () => apim.client.readApi(apiId));
  if (!stored) return 'absent';
  // Only our own mark allows a delete: an unmarked API (made outside the operator) is never removed.
  if (ownershipOf(stored.apiRevisionDescription, who) !== 'ours') return 'not-ours';
  await syncLinks(apim, apiId, { products: [], tags: [] }, { createMissingProducts: false, createMissingTags: false, who });
  try {
    await apim.call(`deleting API '${apiId}' with its revisions`, async () => apim.awaitOperation(await apim.client.deleteApi(apiId)));
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
  return (await ownedApis(apim, who)).map((a) => a.name!);
}

/** The same, as APIM returns them (the delete also reads which version sets they are in). */
export async function ownedApis(apim: Apim, who: OwnerIdentity): Promise<ApiContract[]> {
  const all = await apim.call(`listing the APIs of APIM service '${apim.serviceName}'`, () => apim.client.listApis());
  return all.filter((a) => a.name && ownershipOf(a.apiRevisionDescription, who) === 'ours');
}
