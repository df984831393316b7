// Golden spec hashes: the exact `exposedapi-apim.io/spec-hash` of a corpus of ExposedAPIs in every accepted shape
// (test/core/fixtures/spec-hash/*.yaml, one object per file, each accepted by validation).
//
// THE LITERALS BELOW ARE THE CONTRACT. They were computed once from the code as it was (2026-11) and must never be
// regenerated to make this test pass. The hash is stored on every admitted ExposedAPI; the dispatcher starts a Job
// whenever the stamped hash is not the applied one, and every status write passes the mutating webhook, which stamps
// the hash again with the code it runs. A change of any literal here therefore means: upgrading the operator starts
// one Job per ExposedAPI in the cluster (every API re-imported into APIM at once, paced by DISPATCH_MAX_ACTIVE_JOBS).
//
// If this test fails after a model change, the change made an unset field hash differently. The rule (core/
// exposedapi-model.ts, ExposedApiSpec; core/spec-hash.ts): a new field normalises to absent (undefined) when the
// object does not set it, so canonical JSON leaves it out and every existing hash stays as it was. Add a fixture that
// sets the new field, with its own new literal; never edit an existing literal.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { readExposedApi } from '../../core/exposedapi-model.ts';
import { canonicalJson, specHash } from '../../core/spec-hash.ts';
import { defaultValidationContext, validateExposedApi } from '../../core/validate-exposedapi.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/spec-hash/', import.meta.url));

/** File → the spec hash it has had since the hash was pinned. */
const GOLDEN_SPEC_HASHES: Readonly<Record<string, string>> = {
  // specification shapes
  'v1-url-object.yaml': '762e1d72da254b941a827d062d08894c4bc01ffbf73c09a378e81a2293ea930d',
  'v1beta4-url-version-list.yaml': '762e1d72da254b941a827d062d08894c4bc01ffbf73c09a378e81a2293ea930d',
  'v1-with-status-and-metadata.yaml': '762e1d72da254b941a827d062d08894c4bc01ffbf73c09a378e81a2293ea930d',
  'v1beta3-url-string-list.yaml': '24b9d576b58240da290d9a0252e9d7bad007b87b6a3a37a81ecd408f180a5d6e',
  'v1-url-string.yaml': '24b9d576b58240da290d9a0252e9d7bad007b87b6a3a37a81ecd408f180a5d6e',
  'v1beta3-url-string-list-two.yaml': '8f1a7c1c37fa1a329a08046c14a16070a7e9e85cf7c5c0dfcbbbd42cd496f165',
  'v1-prometheus-no-specification.yaml': 'a2ea238d9fc9960998920491ba3b204f6e23b9dd13b145e8469ed58eb1798993',
  'v1beta4-prometheus-no-specification.yaml': 'a2ea238d9fc9960998920491ba3b204f6e23b9dd13b145e8469ed58eb1798993',
  'v1-openmetrics-no-specification.yaml': '7b6d7c65519d74e9ecc100ffd5a3b8d1088e71defca73770886b4f6939eccc5b',
  'v1-mcp-no-specification.yaml': '3041e6e701e025984bffb87a389aa87375609a3ee7e7b83d8b0931e7afdb4b7a',
  'v1-inline-document.yaml': '199a899a56281409c05c74e3cdcc78cdb1372f1a9a9a05a8df80976e2cd48476',
  'v1beta4-inline-document-list.yaml': '199a899a56281409c05c74e3cdcc78cdb1372f1a9a9a05a8df80976e2cd48476',
  // policy blocks
  'v1-every-policy.yaml': 'a336d6c9603e02624d1e6f0de4c8d17a6674965aa295d147b46354040bfd265c',
  'v1-every-policy-other-spelling.yaml': 'a336d6c9603e02624d1e6f0de4c8d17a6674965aa295d147b46354040bfd265c',
  'v1-cors-preflight-only.yaml': '35ca5a71d2e3dd7277b7d360f06837b1731714210ac06c0eeecbf8b17f707b74',
  // spec.apim
  'v1-apim-extension.yaml': '8664538bbd0edb38551ef0a566c902377c98005b7a23282e9c784377016a8516',
  'v1-apim-backend-url-implied.yaml': '0eb9870c0933ae2de2c5fb3e8b8f3e6093a04ec3cc3eba3380960a4b3a3f6237',
  'v1-apim-backend-url-explicit.yaml': '0eb9870c0933ae2de2c5fb3e8b8f3e6093a04ec3cc3eba3380960a4b3a3f6237',
  'v1-apim-backend-ingress.yaml': 'dd5647e9f2771779d5dd02951aab2bc95cafc3e7a19df5d0ad0d1211d9c2b39a',
  'v1-apim-revisions-false.yaml': 'b89f27adc526d088ea383d2a35f8b05fcdde2dab350df9ca3a8f5e980291e2bd',
  'v1-apim-revisions-true.yaml': '43989b5d8df59b5cccd1e1f84e4043c654c6c28149bf2562bce8cb0dbbdf622f',
  'v1-apim-target.yaml': '484bdae619e5a8619582b2ce24a5cf55ca3d7b4a30a30ff36a2de23931a6132f',
  // absent, empty, defaulted; reconcile-at
  'v1-minimal.yaml': 'd8de88c209e72af794b68ed475a9cc3da9e3a612689d48b617937200a38850b0',
  'v1-optional-empty-strings.yaml': 'd8de88c209e72af794b68ed475a9cc3da9e3a612689d48b617937200a38850b0',
  'v1-explicit-defaults.yaml': 'd8de88c209e72af794b68ed475a9cc3da9e3a612689d48b617937200a38850b0',
  'v1-apim-empty.yaml': 'd8de88c209e72af794b68ed475a9cc3da9e3a612689d48b617937200a38850b0',
  'v1-reconcile-at-empty.yaml': 'd8de88c209e72af794b68ed475a9cc3da9e3a612689d48b617937200a38850b0',
  'v1-reconcile-at.yaml': '05c81c61779abc1a230a17adb007b1b264a765708c5b535d0cdc8e25f7933002',
  'v1-developer-ui-set.yaml': '86e5d80c50ff1e3da756d815876211d49889157e30c576d6b9857bfa28ee1cd4',
};

/**
 * Groups of fixtures that are one change written differently (README "What is stamped": status and other metadata do
 * not change the hash, and equal specs written in different versions hash the same; ODA defaults are applied in memory,
 * so written and omitted defaults are one change).
 */
const SAME_CHANGE: { why: string; files: string[] }[] = [
  { why: 'v1 {url, version}, v1beta4 [{url, version}], and the same object with status and other metadata', files: ['v1-url-object.yaml', 'v1beta4-url-version-list.yaml', 'v1-with-status-and-metadata.yaml'] },
  { why: 'v1beta3 [url] and a URL string (blanks trimmed)', files: ['v1beta3-url-string-list.yaml', 'v1-url-string.yaml'] },
  { why: 'v1 and v1beta4 spellings of a specification-less API', files: ['v1-prometheus-no-specification.yaml', 'v1beta4-prometheus-no-specification.yaml'] },
  { why: 'an inline document as a string and as a list item', files: ['v1-inline-document.yaml', 'v1beta4-inline-document-list.yaml'] },
  { why: 'integer and string limits, CORS origins as CSV and as a list, blanks, key order', files: ['v1-every-policy.yaml', 'v1-every-policy-other-spelling.yaml'] },
  { why: 'backend.url alone implies mode url', files: ['v1-apim-backend-url-implied.yaml', 'v1-apim-backend-url-explicit.yaml'] },
  {
    why: 'optional fields absent, empty strings, written-out ODA defaults, an empty spec.apim, an empty reconcile-at',
    files: ['v1-minimal.yaml', 'v1-optional-empty-strings.yaml', 'v1-explicit-defaults.yaml', 'v1-apim-empty.yaml', 'v1-reconcile-at-empty.yaml'],
  },
];

/** Pairs that must stay different changes: each differs in one thing the executor applies (or in reconcile-at). */
const DIFFERENT_CHANGE: { why: string; files: [string, string] }[] = [
  { why: 'a specification version is part of the change', files: ['v1-url-object.yaml', 'v1beta3-url-string-list.yaml'] },
  { why: 'a second specification entry is part of the change (though only the first is imported)', files: ['v1beta3-url-string-list.yaml', 'v1beta3-url-string-list-two.yaml'] },
  { why: 'backend mode ingress written out is not the same as absent', files: ['v1-apim-backend-ingress.yaml', 'v1-minimal.yaml'] },
  { why: 'reconcile-at forces a new change', files: ['v1-reconcile-at.yaml', 'v1-minimal.yaml'] },
  { why: 'revisions switched on or off for one API', files: ['v1-apim-revisions-true.yaml', 'v1-apim-revisions-false.yaml'] },
  { why: 'developerUI set', files: ['v1-developer-ui-set.yaml', 'v1-minimal.yaml'] },
  { why: 'preflight handling switched off', files: ['v1-cors-preflight-only.yaml', 'v1-url-object.yaml'] },
];

function load(file: string): Record<string, unknown> {
  return YAML.parse(readFileSync(FIXTURES + file, 'utf8')) as Record<string, unknown>;
}
const hashOf = (file: string) => specHash(readExposedApi(load(file)).model);

t.test('every fixture has a pinned hash and every pinned hash a fixture', async (t) => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).sort();
  t.same(files, Object.keys(GOLDEN_SPEC_HASHES).sort(), 'a new fixture needs its literal here (computed once, then never changed)');
});

t.test('the spec hash of every fixture is the pinned one', async (t) => {
  for (const [file, golden] of Object.entries(GOLDEN_SPEC_HASHES)) {
    const { model } = readExposedApi(load(file));
    const actual = specHash(model);
    // On a mismatch, the normalized spec shows which field now hashes differently (look for one that is set although
    // the fixture does not set it).
    t.equal(actual, golden, file, actual === golden ? {} : { normalizedSpec: canonicalJson(model.spec), reconcileAt: model.annotations['exposedapi-apim.io/reconcile-at'] });
  }
});

t.test('one change written in different versions and shapes hashes the same', async (t) => {
  for (const { why, files } of SAME_CHANGE) {
    const hashes = new Set(files.map(hashOf));
    t.equal(hashes.size, 1, why);
  }
});

t.test('different changes hash differently', async (t) => {
  for (const { why, files: [a, b] } of DIFFERENT_CHANGE) t.not(hashOf(a), hashOf(b), why);
  const distinct = new Set(Object.values(GOLDEN_SPEC_HASHES));
  t.equal(distinct.size, Object.keys(GOLDEN_SPEC_HASHES).length - SAME_CHANGE.reduce((n, g) => n + g.files.length - 1, 0), 'only the SAME_CHANGE groups share a hash');
});

t.test('the corpus is of accepted objects (what the webhook stamps)', async (t) => {
  for (const file of Object.keys(GOLDEN_SPEC_HASHES)) {
    const { errors, model } = await validateExposedApi(load(file), defaultValidationContext());
    t.same(errors, [], `${file} is admitted`);
    t.ok(model.version, `${file} is in a served version`);
  }
});
