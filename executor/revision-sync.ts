// A change published as a revision (APIM_REVISIONS=on or spec.apim.revisions: true; docs/revisions.md): the current
// revision keeps serving while the change goes into a new one — created from the current revision (sourceApiId),
// its document imported when it changed, its serviceUrl, user authorization and policy written — which is checked
// (revision-check.ts) and only then made current by a release whose notes name the spec hash. A failed check fails
// the run with the revision named; nothing current changed. After the release, the settings only the current
// revision may change (name, path, subscription, protocols: "Can't change property … for non-current revision") are
// patched, and earlier revisions of ours beyond APIM_REVISIONS_KEEP are deleted.
//
// The first publication of an API is revision 1 as without revisions (apim-sync.ts syncApi); so is an API that is not
// ours yet (adoption goes through the ownership gate there).
import type { ApiContract } from './apim-operations.ts';
import type { Apim } from './apim-client.ts';
import { renderMark } from './api-mark.ts';
import { ownershipGate, readAfterImport, readApi, readPolicy, runImport, settleImport, syncPolicy, updateApi, type OwnershipPolicy } from './apim-sync.ts';
import { driftOf, type DesiredApi } from './desired-api.ts';
import { apiResourcePath, type ServiceCoordinates } from './import-operation.ts';
import type { ImportPlan } from './import-plan.ts';
import { samePolicy } from './policy-compare.ts';
import { checkRevision, type RevisionVersion } from './revision-check.ts';
import { currentRevision, releaseIdFor, releaseNotesFor, revisionFor, revisionId, revisionsOf, revisionsToPrune } from './revision-plan.ts';
import { parseMark } from './api-mark.ts';
import { permanent } from './step-failure.ts';

/** Settings only the current revision may change (docs: api-management-revisions); patched after the release. */
// The version set goes with them: a revision's API version is locked, and the set names the version
// (docs/version-sets.md); a move to another set is written once the new revision is current.
const CURRENT_ONLY = ['path', 'displayName', 'subscriptionRequired', 'subscriptionKeyParameterNames', 'protocols', 'apiVersionSet'];

export interface RevisionInput {
  apim: Apim;
  desired: DesiredApi;
  plan: ImportPlan;
  ownership: OwnershipPolicy;
  /** The current revision as read at the start of the run (it exists and carries our mark). */
  stored: ApiContract;
  /** The policy as rendered. */
  xml: string;
  specHash: string;
  keep: number;
  coordinates: ServiceCoordinates;
  /** APIM_GATEWAY_URL: the revision's own URL is called through it when set. */
  gatewayUrl?: string;
  /**
   * How the gateway names the revision's version when the caller knows better than the stored API's details (its set
   * is the one this run just made sure of, scheme possibly changed since `stored` was read).
   */
  version?: RevisionVersion;
}

export interface RevisionResult {
  action: 'released' | 'updated' | 'unchanged';
  /** The current revision's number when the run ends. */
  current: string;
  /** Settings patched on the current revision without a new revision (or after the release). */
  drift: string[];
  released?: { revision: number; previous: string; releaseId: string; reused: boolean };
  pruned: number[];
}

/** What differs from the desired API in a way a new revision carries (document, serviceUrl, user authorization, policy). */
async function revisionNeeded(i: RevisionInput): Promise<string[]> {
  const why: string[] = [];
  if (parseMark(i.stored.apiRevisionDescription).fingerprint !== i.plan.fingerprint) why.push('document');
  for (const d of driftOf(i.stored, i.desired)) if (!CURRENT_ONLY.includes(d)) why.push(d);
  if (!samePolicy(await readPolicy(i.apim, i.desired.apiId), i.xml)) why.push('policy');
  return why;
}

/** How the gateway names the version of a revision that is in a set (the set as the API's GET details it). */
function revisionVersionOf(stored: ApiContract): { version?: RevisionVersion } {
  const set = stored.apiVersionSet;
  if (!stored.apiVersionSetId || !set?.versioningScheme) return {};
  return {
    version: {
      scheme: set.versioningScheme,
      value: stored.apiVersion ?? '',
      ...(set.versionQueryName ? { queryName: set.versionQueryName } : {}),
      ...(set.versionHeaderName ? { headerName: set.versionHeaderName } : {}),
    },
  };
}

export async function syncRevision(i: RevisionInput): Promise<RevisionResult> {
  const { apim, desired, plan, ownership: o, stored } = i;
  const id = desired.apiId;
  ownershipGate(stored, id, o);
  const currentNumber = stored.apiRevision ?? '1';
  const why = await revisionNeeded(i);
  if (why.length === 0) {
    // Nothing a revision would carry: what only the current revision holds is patched in place, as without revisions.
    const drift = driftOf(stored, desired);
    if (drift.length > 0) await updateApi(apim, desired);
    return { action: drift.length > 0 ? 'updated' : 'unchanged', current: currentNumber, drift, pruned: [] };
  }
  const list = await apim.call(`listing the revisions of API '${id}'`, () => apim.client.listApiRevisions(id));
  const revs = revisionsOf(list, o.who);
  const current = currentRevision(revs)?.number ?? Number(currentNumber);
  const target = revisionFor(revs, plan.fingerprint);
  const n = target.number;
  const revId = revisionId(id, n);
  // The revision carries what only the current revision may hold as the current revision has it: APIM refuses a
  // non-current revision that differs there ("Can't change property Path for non-current revision ").
  const inRevision: DesiredApi = {
    ...desired,
    apiId: revId,
    path: stored.path ?? desired.path,
    displayName: stored.displayName ?? desired.displayName,
    subscriptionRequired: stored.subscriptionRequired ?? desired.subscriptionRequired,
    subscriptionKeyParameterNames: { header: stored.subscriptionKeyParameterNames?.header ?? desired.subscriptionKeyParameterNames.header, query: stored.subscriptionKeyParameterNames?.query ?? desired.subscriptionKeyParameterNames.query },
    protocols: stored.protocols ?? ['https'],
  };
  // Its version set and version as the current revision has them (the version is locked on a non-current one).
  if (stored.apiVersionSetId) inRevision.versionSet = { id: stored.apiVersionSetId, apiVersion: stored.apiVersion ?? '' };
  else delete inRevision.versionSet;
  apim.log.info('publishing the change as a new revision', { apiId: id, revision: n, current, reuse: target.reuse, because: why });
  if (!target.reuse) {
    // A copy of the current revision: operations, policy, settings. Marked with the current document's fingerprint
    // (what the copy holds) until its own import settles, so a run killed in between imports it again.
    const sourceMark = renderMark(o.who, parseMark(stored.apiRevisionDescription).fingerprint ?? '0'.repeat(64));
    await apim.call(`creating revision ${n} of API '${id}'`, async () =>
      apim.awaitOperation(await apim.client.createApiRevision(revId, {
        sourceApiId: apiResourcePath(i.coordinates, id),
        path: inRevision.path,
        ...(inRevision.versionSet ? { apiVersionSetId: inRevision.versionSet.id, apiVersion: inRevision.versionSet.apiVersion } : {}),
        apiRevisionDescription: sourceMark,
      })));
  }
  let revision = await readAfterImport(apim, revId, false);
  if (parseMark(revision!.apiRevisionDescription).fingerprint !== plan.fingerprint) {
    await runImport(apim, inRevision, plan, {});
    revision = await readAfterImport(apim, revId, false);
    await settleImport(apim, inRevision, plan, o, revision!);
  } else if (driftOf(revision!, inRevision).length > 0) {
    await updateApi(apim, inRevision);
  }
  await syncPolicy(apim, revId, i.xml);

  const problems = await checkRevision({ apim, revisionId: revId, revision: n, ...(plan.operations !== undefined ? { operations: plan.operations } : {}), xml: i.xml, ...(i.gatewayUrl ? { gatewayUrl: i.gatewayUrl } : {}), path: inRevision.path, ...(i.version ? { version: i.version } : revisionVersionOf(stored)) });
  if (problems.length > 0) {
    throw permanent('RevisionCheckFailed', `revision ${n} of APIM API '${id}' was not made current: ${problems.join('; ')}. Revision ${current} keeps serving; revision ${n} stays for inspection (${revId}) and is checked again by the next run of this change, or replaced by the next change`);
  }

  const releaseId = releaseIdFor(i.specHash, n);
  await apim.call(`making revision ${n} of API '${id}' current (release ${releaseId})`, () =>
    apim.client.createApiRelease(id, releaseId, { apiId: `/apis/${revId}`, notes: releaseNotesFor(i.specHash, o.who) }));
  // Now current: the settings only the current revision may change.
  const now = await readApi(apim, id);
  const drift = now ? driftOf(now, desired) : [];
  if (drift.length > 0) await updateApi(apim, desired);
  const after = revisionsOf(await apim.call(`listing the revisions of API '${id}'`, () => apim.client.listApiRevisions(id)), o.who);
  const pruned = revisionsToPrune(after, i.keep);
  for (const m of pruned) {
    await apim.call(`deleting revision ${m} of API '${id}' (APIM_REVISIONS_KEEP=${i.keep})`, async () => {
      try {
        await apim.awaitOperation(await apim.client.deleteApiRevision(revisionId(id, m)));
      } catch (e) {
        // Gone meanwhile: the goal is reached.
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      }
    });
  }
  return { action: 'released', current: String(n), drift, released: { revision: n, previous: String(current), releaseId, reused: target.reuse }, pruned };
}
