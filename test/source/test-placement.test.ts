// A test lives beside the part it tests: test/<part>/ mirrors the top-level folders. A test of core/ alone (a pure
// model or rule, no harness of another part) belongs in test/core/, so a reader of core/ finds all its tests there.
// End-to-end tests (test/e2e/) and tests that drive another part's harness are exempt.
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR } from '../helpers/fixtures.ts';

const EXEMPT = new Set(['core', 'e2e', 'bench', 'helpers']);

/** Test files outside test/core/ whose only product imports are from core/ and that use no harness beside them. */
function misplacedCoreTests(testDir: string): string[] {
  const misplaced: string[] = [];
  for (const folder of readdirSync(testDir, { withFileTypes: true })) {
    if (!folder.isDirectory() || EXEMPT.has(folder.name)) continue;
    for (const name of readdirSync(join(testDir, folder.name))) {
      if (!name.endsWith('.test.ts')) continue;
      const text = readFileSync(join(testDir, folder.name, name), 'utf8');
      const parts = new Set([...text.matchAll(/from '\.\.\/\.\.\/([\w-]+)\//g)].map((m) => m[1]));
      const harness = /from '\.\/|from '\.\.\/(?!helpers\/)[\w-]+\//.test(text);
      if (parts.size === 1 && parts.has('core') && !harness) misplaced.push(`test/${folder.name}/${name}`);
    }
  }
  return misplaced.sort();
}

t.test('tests of core/ alone are filed under test/core/', async (t) => {
  t.same(misplacedCoreTests(join(REPO_DIR, 'test')), [], 'git mv them to test/core/');
});

t.test('the check finds a core-only test elsewhere and leaves harness tests alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'test-placement-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'executor'));
  writeFileSync(join(dir, 'executor/id.test.ts'), "import { apiIdOf } from '../../core/api-id.ts';\nimport { exposedApi } from '../helpers/fixtures.ts';\n");
  writeFileSync(join(dir, 'executor/run.test.ts'), "import { readExposedApi } from '../../core/exposedapi-model.ts';\nimport { executorBench } from './harness.ts';\n");
  writeFileSync(join(dir, 'executor/steps.test.ts'), "import { x } from '../../core/a.ts';\nimport { y } from '../../executor/b.ts';\n");
  t.same(misplacedCoreTests(dir), ['test/executor/id.test.ts']);
});
