// The sandbox's sample backend finds the TM Forum reference documents from any clone location (shared/ beside the
// checkout or beside a folder above it) without SANDBOX_SPECS_DIR, and says where it looked when it cannot.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findReferenceDocument, referenceDirs, SAMPLE_DOCUMENTS } from '../../dev-cluster/sandbox/sample-backend.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';

const FILE = Object.keys(SAMPLE_DOCUMENTS)[0]!;

t.test('this checkout finds the documents without SANDBOX_SPECS_DIR', async (t) => {
  for (const file of Object.keys(SAMPLE_DOCUMENTS)) {
    const found = findReferenceDocument(file, referenceDirs({}));
    t.ok('text' in found, `${file}: ${'path' in found ? found.path : `not in ${found.looked.join(', ')}`}`);
  }
});

t.test('a clone anywhere below the folder holding shared/ finds them; SANDBOX_SPECS_DIR comes first', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sample-backend-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'shared/reference/specs'), { recursive: true });
  writeFileSync(join(root, 'shared/reference/specs', FILE), '{"from":"shared"}');
  const clone = join(root, 'work/checkouts/exposedapi-apim');
  mkdirSync(clone, { recursive: true });
  t.match(findReferenceDocument(FILE, referenceDirs({}, clone)), { text: '{"from":"shared"}', path: join(root, 'shared/reference/specs', FILE) });

  mkdirSync(join(root, 'own'));
  writeFileSync(join(root, 'own', FILE), '{"from":"env"}');
  t.match(findReferenceDocument(FILE, referenceDirs({ SANDBOX_SPECS_DIR: join(root, 'own') }, clone)), { text: '{"from":"env"}' });
});

t.test('not found: every folder looked in is named', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sample-backend-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const found = findReferenceDocument('TMF000-none.json', referenceDirs({ SANDBOX_SPECS_DIR: join(root, 'specs') }, join(root, 'clone')));
  if (!('looked' in found)) return t.fail('found a document that does not exist');
  t.equal(found.looked[0], join(root, 'specs'), 'SANDBOX_SPECS_DIR first');
  t.equal(found.looked[1], join(root, 'clone/shared/reference/specs'));
  t.equal(found.looked[2], join(root, 'shared/reference/specs'), 'then beside each folder above');
  t.equal(found.looked.at(-1), '/shared/reference/specs', 'up to the root');
  t.ok(referenceDirs({}).includes(join(REPO_DIR, '../shared/reference/specs')), 'beside this checkout');
});
