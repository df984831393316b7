// core/api-versioning.ts: which path segment is a version, the base path the versions share, the grouping key and the
// version set id derived from it (deterministic, APIM-legal, distinct per cluster, namespace and base path), the
// display name, and the public path under each scheme.
import t from 'tap';
import { apiVersioningOf, majorOf, pathVersionOf, publicPathOf, versionSetDisplayName, versionSetIdOf, type VersioningConfig } from '../../core/api-versioning.ts';
import { checkApiId } from '../../core/rules/apim-extension.ts';

const TMF = '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement';

t.test('the version segment and the base path', async (t) => {
  const cases: [string, string | undefined, { version: string; basePath: string } | undefined, string][] = [
    [`${TMF}/v4`, 'v4.0.0', { version: 'v4', basePath: TMF }, 'ODA: the path ends with v<major>'],
    [`${TMF}/v5`, undefined, { version: 'v5', basePath: TMF }, 'no specification.version needed for v<N>'],
    [`${TMF}/V5`, undefined, { version: 'V5', basePath: TMF }, 'the label keeps its spelling (the public URL does not change)'],
    ['/a/v10', undefined, { version: 'v10', basePath: '/a' }, 'several digits'],
    ['/a/4', '4.0.0', { version: '4', basePath: '/a' }, 'a bare major that specification.version names'],
    ['/a/4.0.0', 'v4.0.0', { version: '4.0.0', basePath: '/a' }, 'the whole version, with or without v'],
    ['/a/v4.0.0', '4.0.0', { version: 'v4.0.0', basePath: '/a' }, 'v + the whole version'],
    ['/a/4', undefined, undefined, 'a number alone is not a version without specification.version'],
    ['/a/4', '5.0.0', undefined, 'a number another version than the specification\'s'],
    ['/a/v4', '5.0.0', { version: 'v4', basePath: '/a' }, 'the path decides when they disagree'],
    ['/a/v4beta', undefined, undefined, 'not v<digits>'],
    ['/a/version4', undefined, undefined, 'not v<digits>'],
    ['/a/b', 'v4', undefined, 'no version segment: a plain API'],
    ['/v1', undefined, undefined, 'a version at the root has no base path to share'],
    ['/ctk/metrics', undefined, undefined, 'a prometheus path'],
  ];
  for (const [path, specVersion, want, why] of cases) t.same(pathVersionOf(path, specVersion), want, `${path} (${specVersion ?? 'no version'}): ${why}`);
  t.same([majorOf('v4.0.0'), majorOf('5'), majorOf('5.1'), majorOf('V2'), majorOf('latest'), majorOf(undefined)], [4, 5, 5, 2, undefined, undefined]);
});

t.test('version set ids: grouping by cluster, namespace and base path (without case); deterministic and APIM-legal', async (t) => {
  const k = { cluster: 'default', namespace: 'components', basePath: TMF };
  const id = versionSetIdOf(k);
  t.equal(id, `${'components-ctk-productcatalogmanagement-tmf-api-productcatalogmanagement'.slice(0, 71)}-${id.slice(-8)}`, 'readable head cut to 71, then the hash: 80 characters');
  t.match(id.slice(-8), /^[0-9a-f]{8}$/);
  t.equal(versionSetIdOf({ ...k }), id, 'deterministic');
  t.equal(versionSetIdOf({ ...k, basePath: TMF.toUpperCase() }), id, 'paths compare without case, as APIM and admission compare them');
  t.not(versionSetIdOf({ ...k, namespace: 'other' }), id, 'another namespace never shares the set');
  t.not(versionSetIdOf({ ...k, cluster: 'prod-2' }), id, 'another cluster sharing the APIM service gets its own set');
  t.not(versionSetIdOf({ ...k, basePath: '/a/b' }), versionSetIdOf({ ...k, basePath: '/a-b' }), 'the hash tells apart base paths that read the same');
  const long = versionSetIdOf({ cluster: 'c', namespace: 'n'.repeat(63), basePath: `/${'seg/'.repeat(100)}x` });
  t.ok(long.length <= 80, `at most 80 characters (${long.length})`);
  for (const basePath of [TMF, "/a/b_c.d/~x/!$&'()*+,=:@", `/${'p'.repeat(400)}`, '/---/...']) {
    const v = versionSetIdOf({ cluster: 'default', namespace: 'team-a', basePath });
    t.same(checkApiId('versionSetId', v), [], `${v} is inside APIM's id rules`);
    t.match(v, /^[a-z0-9._-]{1,80}$/);
    t.notMatch(v, /^[-.]|[-.]-/, 'no leading or doubled separators');
  }
});

t.test('display name and public path', async (t) => {
  t.equal(versionSetDisplayName(TMF), 'ctk-productcatalogmanagement/tmf-api/productCatalogManagement');
  const long = versionSetDisplayName(`/${'a'.repeat(150)}/tail`);
  t.equal(long.length, 100);
  t.match(long, /^\.\.\.a+\/tail$/, 'the tail, the informative part, is kept');
  const config = (scheme: VersioningConfig['scheme']): VersioningConfig => ({ scheme, queryName: 'api-version', headerName: 'Api-Version' });
  const seg = apiVersioningOf({ namespace: 'components', path: `${TMF}/v4`, specVersion: 'v4.0.0' }, 'default', config('Segment'))!;
  t.same({ version: seg.version, basePath: seg.basePath, displayName: seg.displayName }, { version: 'v4', basePath: TMF, displayName: 'ctk-productcatalogmanagement/tmf-api/productCatalogManagement' });
  t.equal(apiVersioningOf({ namespace: 'components', path: `${TMF}/v5` }, 'default', config('Segment'))!.setId, seg.setId, 'v4 and v5 of one base path: one set');
  t.equal(publicPathOf(`${TMF}/v4`, seg), `${TMF}/v4`, 'Segment: the ODA path stays the URL');
  t.equal(publicPathOf(`${TMF}/v4`, apiVersioningOf({ namespace: 'components', path: `${TMF}/v4` }, 'default', config('Query'))), TMF, 'Query: the base path');
  t.equal(publicPathOf(`${TMF}/v4`, apiVersioningOf({ namespace: 'components', path: `${TMF}/v4` }, 'default', config('Header'))), TMF, 'Header: the base path');
  t.equal(apiVersioningOf({ namespace: 'components', path: '/ctk/metrics' }, 'default', config('Segment')), undefined);
  t.equal(publicPathOf('/ctk/metrics', undefined), '/ctk/metrics');
});
