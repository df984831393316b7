// Revisions: `{api};rev=N` is created from the current revision, listed beside it, cannot change what only the
// current revision may change, is made current by a release, and the current revision cannot be deleted on its own
// while others exist.
import type { Check } from '../check.ts';
import { differs, pass } from '../check.ts';
import type { ArmResponse } from '../arm-target.ts';
import { describeError, isAccepted, outcomeError } from '../long-running.ts';
import type { LroOutcome } from '../long-running.ts';
import type { ConformanceContext } from '../run-context.ts';

const EXAMPLES = 'https://github.com/Azure/azure-rest-api-specs/blob/main/specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/2024-05-01/examples';

interface RevisionScenario {
  apiId: string;
  create: LroOutcome;
  revisions: ArmResponse;
}

/** Its own API (plain, no import): a check here deletes things, and must never reach the base API. */
function revisionScenario(ctx: ConformanceContext): Promise<RevisionScenario> {
  return ctx.memo('revisions', async () => {
    const apiId = ctx.id('rev');
    const path = ctx.path('rev');
    ctx.track('api', apiId);
    const api = await ctx.write('PUT', `/apis/${apiId}`, { body: { properties: { displayName: apiId, path, protocols: ['https'], serviceUrl: 'https://rev.conformance.invalid' } } });
    const created = await ctx.follow(api, `/apis/${apiId}`);
    if (created.final.status !== 200 && created.final.status !== 201) throw new Error(`creating ${apiId} answered ${created.final.status} ${describeError(created.final)}`);
    const revId = `${apiId};rev=2`;
    const first = await ctx.write('PUT', `/apis/${revId}`, {
      body: { properties: { path, apiRevisionDescription: 'conformance revision', sourceApiId: `${ctx.target.servicePath}/apis/${apiId}` } },
    });
    const create = await ctx.follow(first, `/apis/${revId}`);
    const revisions = await ctx.read(`/apis/${apiId}/revisions`);
    return { apiId, create, revisions };
  });
}

/** A new non-current revision `;rev=<n>` of the scenario's API, from its current revision. */
async function newRevision(ctx: ConformanceContext, apiId: string, n: number): Promise<LroOutcome> {
  const first = await ctx.write('PUT', `/apis/${apiId};rev=${n}`, {
    body: { properties: { path: ctx.path('rev'), sourceApiId: `${ctx.target.servicePath}/apis/${apiId}` } },
  });
  return ctx.follow(first, `/apis/${apiId};rev=${n}`);
}

export const revisionChecks: Check[] = [
  {
    id: 'revisions.create-and-list',
    expected: 'PUT {api};rev=2 with sourceApiId creates a non-current revision; GET {api}/revisions lists 1 (current) and 2',
    source: `${EXAMPLES}/ApiManagementCreateApiRevisionFromExistingApi.json, ${EXAMPLES}/ApiManagementListApiRevisions.json`,
    async run(ctx) {
      const { create, revisions } = await revisionScenario(ctx);
      const items: { apiRevision?: string; isCurrent?: boolean }[] = revisions.json?.value ?? [];
      const list = items.map((r) => `${r.apiRevision}${r.isCurrent ? ' (current)' : ''}`).join(', ');
      const observed = `create ${create.final.status}${create.final.status >= 400 ? ` ${describeError(create.final)}` : ''}; revisions ${revisions.status}: [${list}]`;
      const one = items.find((r) => r.apiRevision === '1');
      const two = items.find((r) => r.apiRevision === '2');
      const ok = (create.final.status === 200 || create.final.status === 201) && one?.isCurrent === true && two !== undefined && two.isCurrent === false;
      return ok ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'revisions.delete-current-refused',
    expected: 'DELETE of the current revision without deleteRevisions=true, while another revision exists, fails: ValidationError "Cannot delete the current revision of an API."',
    source: 'https://github.com/Azure/apiops/issues/184, https://github.com/Azure/apiops-cli/issues/260 (also seen on the poll)',
    async run(ctx) {
      const { apiId } = await revisionScenario(ctx);
      const first = await ctx.write('DELETE', `/apis/${apiId}`, { headers: { 'if-match': '*' } });
      // Seen both directly (400) and on the poll of an accepted delete (apiops-cli #260).
      const outcome = isAccepted(first) ? await ctx.follow(first, `/apis/${apiId}`) : undefined;
      const error = outcome ? outcomeError(outcome) : first.status >= 400 ? describeError(first) : undefined;
      const observed = `${first.status}${outcome ? ` → poll ${outcome.final.status}` : ''}${error ? ` ${error}` : ''}`;
      return error?.includes('Cannot delete the current revision of an API.') ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'revisions.non-current-path-locked',
    expected: 'PATCH of a non-current revision\'s path fails: 400 ValidationError "Can\'t change property Path for non-current revision"',
    source: 'https://learn.microsoft.com/azure/api-management/api-management-revisions ("Can\'t change property for non-current revision"), https://github.com/Azure/apiops/issues/436',
    async run(ctx) {
      const { apiId } = await revisionScenario(ctx);
      const created = await newRevision(ctx, apiId, 3);
      if (created.final.status >= 400) return differs(`creating revision 3: ${created.final.status} ${describeError(created.final)}`);
      const patched = await ctx.write('PATCH', `/apis/${apiId};rev=3`, { body: { properties: { path: ctx.path('elsewhere') } }, headers: { 'if-match': '*' } });
      const observed = `${patched.status}${patched.status >= 400 ? ` ${describeError(patched)}` : ''}`;
      return patched.status === 400 && /Can't change property Path for non-current revision/.test(describeError(patched)) ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'revisions.release-makes-current',
    expected: 'PUT {api}/releases/{id} with apiId /apis/{api};rev=N makes revision N current: GET {api} answers apiRevision N, {api};rev=1 is no longer current; the release keeps its notes',
    source: `${EXAMPLES}/ApiManagementCreateApiRelease.json, https://learn.microsoft.com/powershell/module/az.apimanagement/new-azapimanagementapirelease ("A Release is used to make the Api Revision as Current Revision")`,
    async run(ctx) {
      const { apiId } = await revisionScenario(ctx);
      const created = await newRevision(ctx, apiId, 4);
      if (created.final.status >= 400) return differs(`creating revision 4: ${created.final.status} ${describeError(created.final)}`);
      const releaseId = ctx.id('rel');
      const release = await ctx.write('PUT', `/apis/${apiId}/releases/${releaseId}`, { body: { properties: { apiId: `/apis/${apiId};rev=4`, notes: 'conformance release' } } });
      const current = await ctx.read(`/apis/${apiId}`);
      const first = await ctx.read(`/apis/${apiId};rev=1`);
      const observed = `release ${release.status}${release.status >= 400 ? ` ${describeError(release)}` : ` notes '${release.json?.properties?.notes}'`}; current apiRevision ${current.json?.properties?.apiRevision}; rev=1 isCurrent ${first.json?.properties?.isCurrent}`;
      const ok = (release.status === 200 || release.status === 201) && release.json?.properties?.notes === 'conformance release'
        && current.json?.properties?.apiRevision === '4' && first.json?.properties?.isCurrent === false;
      return ok ? pass(observed) : differs(observed);
    },
  },
];
