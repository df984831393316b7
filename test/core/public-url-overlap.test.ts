// core/public-url-overlap.ts: which URL an API claims beyond its literal path, the one list filter that finds who else
// may serve it, and which of the listed APIs clash (not ours by mark, not a revision of ours, the right version).
import t from 'tap';
import { apiFamilyOf, claimFilter, clashes, foreignHolders, urlClaimOf, type ListedApi, type UrlClaim } from '../../core/public-url-overlap.ts';

t.test('the claimed URL and where another API claiming it sits', async (t) => {
  const cases: [Parameters<typeof urlClaimOf>[0], UrlClaim | undefined, string][] = [
    [{ path: 'taken', version: { value: 'v4', scheme: 'Segment' } }, { url: 'taken/v4', holderPath: 'taken/v4' }, 'Segment version: any API at <base>/<version>'],
    [{ path: 'a/b/c', version: { value: 'V5', scheme: 'Segment' } }, { url: 'a/b/c/V5', holderPath: 'a/b/c/V5' }, 'the version as written'],
    [{ path: 'a/b' }, { url: 'a/b', holderPath: 'a', version: 'b' }, 'plain: a Segment version <last> of a set at <parent>'],
    [{ path: '/a/b/' }, { url: 'a/b', holderPath: 'a', version: 'b' }, 'slashes at the ends do not count'],
    [{ path: 'solo' }, { url: 'solo', holderPath: '', version: 'solo' }, 'one segment: a set at the root path'],
    [{ path: 'a/b', version: { value: 'v4', scheme: 'Query' } }, { url: 'a/b', holderPath: 'a', version: 'b' }, 'Query: the URL is the base path, guarded like a plain API'],
    [{ path: 'a/b', version: { value: 'v4', scheme: 'Header' } }, { url: 'a/b', holderPath: 'a', version: 'b' }, 'Header: the same'],
    [{ path: '' }, undefined, 'an API at the root: nothing above it'],
  ];
  for (const [input, want, why] of cases) t.same(urlClaimOf(input), want, why);
});

t.test('the list filter', async (t) => {
  t.equal(claimFilter({ url: 'taken/v4', holderPath: 'taken/v4' }), "properties/path eq 'taken/v4'");
  t.equal(claimFilter({ url: 'a/b', holderPath: '', version: 'b' }), "properties/path eq ''", 'the root path');
  t.equal(claimFilter({ url: "o'k/v1", holderPath: "o'k/v1" }), "properties/path eq 'o''k/v1'", 'quotes doubled, as OData strings need');
});

t.test('who clashes', async (t) => {
  const api = (name: string, path: string, o: Partial<ListedApi> = {}): ListedApi => ({ name, path, ours: false, ...o });
  const segmentClaim: UrlClaim = { url: 'taken/v4', holderPath: 'taken/v4' };
  const plainClaim: UrlClaim = { url: 'a/b', holderPath: 'a', version: 'b' };
  const cases: [UrlClaim, ListedApi[], string[], string][] = [
    [segmentClaim, [api('hand', 'taken/v4')], ['hand'], 'a plain API at <base>/<version>'],
    [segmentClaim, [api('hand', 'Taken/V4')], ['hand'], 'paths compare without case'],
    [segmentClaim, [api('other-set', 'taken/v4', { versionSetId: 's', apiVersion: 'x', scheme: 'Segment' })], ['other-set'], 'any API at that path, in a set or not'],
    [segmentClaim, [api('mine', 'taken/v4')], [], 'our own API (same id: the upgrade that moves it into its set)'],
    [segmentClaim, [api('MINE;rev=2', 'taken/v4')], [], 'a revision of our own API is our API'],
    [segmentClaim, [api('earlier-id', 'taken/v4', { ours: true }), api('earlier-id;rev=3', 'taken/v4')], [], 'an API carrying our mark, with its revisions'],
    [segmentClaim, [api('hand', 'taken/v4x'), api('hand2', 'taken')], [], 'other paths (a filter the server ignored is re-checked)'],
    [plainClaim, [api('v-b', 'a', { versionSetId: 's', apiVersion: 'B', scheme: 'Segment' })], ['v-b'], 'version b (without case) of a set at the parent'],
    [plainClaim, [api('v-c', 'a', { versionSetId: 's', apiVersion: 'c', scheme: 'Segment' })], [], 'another version'],
    [plainClaim, [api('plain-a', 'a')], [], 'a plain API at the parent serves a, not a/b'],
    [plainClaim, [api('original', 'a', { versionSetId: 's', apiVersion: '', scheme: 'Segment' })], [], 'the Original version answers at a'],
    [plainClaim, [api('q', 'a', { versionSetId: 's', apiVersion: 'b', scheme: 'Query' })], ['q'], 'listed as a holder; clashes() then says no (Query)'],
    [plainClaim, [api('unknown', 'a', { versionSetId: 's', apiVersion: 'b' })], ['unknown'], 'scheme not detailed: a holder whose set must be read'],
  ];
  for (const [claim, apis, want, why] of cases) t.same(foreignHolders(claim, apis, 'mine').map((a) => a.name), want, why);

  t.equal(clashes(segmentClaim, undefined), true, 'Segment claim: any holder clashes');
  t.equal(clashes(plainClaim, 'Segment'), true, 'plain claim: a Segment version clashes');
  t.equal(clashes(plainClaim, 'Query'), false, 'a Query version answers at a, with a parameter');
  t.equal(clashes(plainClaim, 'Header'), false);
  t.equal(clashes(plainClaim, undefined), false, 'a set that is gone serves nothing');
  t.same(['x;rev=3', 'X', 'x;REV=1'].map(apiFamilyOf), ['x', 'x', 'x'], 'revisions are their API');
});
