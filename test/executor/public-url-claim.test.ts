// executor/public-url-guard.ts claimsUrl: which runs read the list before writing (a create, an import, an adoption,
// a move) and which do not (an unchanged API, a settings-only update, an API another ExposedAPI owns: the ownership
// gate's refusal). Pure.
import t from 'tap';
import { renderMark } from '../../executor/api-mark.ts';
import type { ApiContract } from '../../executor/apim-operations.ts';
import { claimsUrl, type WantedPlacement } from '../../executor/public-url-guard.ts';

const who = { cluster: 'default', namespace: 'ns', name: 'x', uid: 'u-1' };
const FP = 'a'.repeat(64);
const SET = '/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/svc/apiVersionSets/ns-taken-12345678';
const segment: WantedPlacement = { path: 'taken', set: { id: SET, version: 'v4', scheme: 'Segment' } };
const plain: WantedPlacement = { path: 'a/b' };
const inSet: ApiContract = { path: 'taken', apiVersion: 'v4', apiVersionSetId: SET, apiVersionSet: { id: SET, versioningScheme: 'Segment' }, apiRevisionDescription: renderMark(who, FP), serviceUrl: 'http://old' };
const asPlain: ApiContract = { path: 'a/b', apiRevisionDescription: renderMark(who, FP) };

t.test('which runs check the URL', async (t) => {
  const cases: [ApiContract | undefined, WantedPlacement, boolean, string][] = [
    [undefined, segment, true, 'a create'],
    [inSet, segment, false, 'unchanged: no list read'],
    [{ ...inSet, serviceUrl: 'http://new' }, segment, false, 'a settings-only difference does not move the URL'],
    [{ ...inSet, apiRevisionDescription: renderMark(who, 'b'.repeat(64)) }, segment, true, 'a changed document: an import'],
    [{ ...inSet, apiRevisionDescription: undefined }, segment, true, 'unmarked: an adoption or a recorded import'],
    [{ ...inSet, apiRevisionDescription: renderMark({ ...who, name: 'y' }, FP) }, segment, false, 'another ExposedAPI\'s: the ownership gate refuses it'],
    [{ ...inSet, path: 'taken/v4', apiVersion: '', apiVersionSetId: null, apiVersionSet: null }, segment, true, 'the upgrade: moves into its set'],
    [{ ...inSet, apiVersion: 'v5' }, segment, true, 'another version'],
    [{ ...inSet, apiVersionSetId: SET.replace('12345678', '87654321') }, segment, true, 'another set'],
    [{ ...inSet, apiVersionSetId: SET.toUpperCase() }, segment, false, 'set ids compare without case'],
    [{ ...inSet, apiVersionSet: { id: SET, versioningScheme: 'Header' } }, segment, true, 'the set\'s scheme changes: the URL moves'],
    [{ ...inSet, apiVersionSet: null }, segment, false, 'no details of the set: the scheme is not compared'],
    [asPlain, plain, false, 'plain, unchanged'],
    [{ ...asPlain, path: 'a/c' }, plain, true, 'plain, its path changes'],
    [{ ...asPlain, apiVersionSetId: SET, apiVersion: 'b' }, plain, true, 'leaves its set'],
  ];
  for (const [stored, want, expected, why] of cases) t.equal(claimsUrl(stored, want, FP, who), expected, why);
});
