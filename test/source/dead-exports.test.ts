// An export nobody imports is a promise nobody keeps: it reads as API, is kept "compatible" by the next reader and
// hides that the code beside it is unused. Every exported name must be used somewhere else in the repository (tests
// count: an export kept as a test seam is used). A scan by name, not by module graph, so it errs on the side of
// keeping: a name that also occurs elsewhere for another reason is not reported.
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { sourceFiles as walkSources } from '../helpers/source-files.ts';

const SKIP = new Set(['node_modules', 'dist', 'fixtures', '.git', '.sandbox']);

const sourceFiles = (dir: string): string[] => walkSources(dir, SKIP);

const DECLARATION = /^export\s+(?:declare\s+)?(?:async\s+)?(?:const|let|var|function\*?|(?:abstract\s+)?class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;

/** Exported names (outside test files) that no other file mentions and their own file mentions only once. */
function deadExports(root: string): string[] {
  const files = sourceFiles(root).map((path) => {
    const text = readFileSync(path, 'utf8');
    const words = new Map<string, number>();
    for (const [w] of text.matchAll(/[A-Za-z_$][\w$]*/g)) words.set(w, (words.get(w) ?? 0) + 1);
    return { path, text, words };
  });
  const dead: string[] = [];
  for (const file of files) {
    if (file.path.endsWith('.test.ts')) continue;
    for (const [, name = ''] of file.text.matchAll(DECLARATION)) {
      const usedElsewhere = files.some((f) => f !== file && f.words.has(name));
      if (!usedElsewhere && file.words.get(name) === 1) dead.push(`${relative(root, file.path)}: ${name}`);
    }
  }
  return dead.sort();
}

t.test('every exported name is used somewhere', async (t) => {
  t.same(deadExports(REPO_DIR), [], 'remove these exports (or the code behind them), or use them');
});

t.test('the scan finds an unused export and keeps used and local ones', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dead-exports-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'core'));
  writeFileSync(join(root, 'core/tokens.ts'), 'export const NOBODY_READS_ME = /x/;\nexport const USED = 1;\nexport const LOCAL = 2;\nconst y = LOCAL;\n');
  writeFileSync(join(root, 'core/user.ts'), "import { USED } from './tokens.ts';\n");
  t.same(deadExports(root), ['core/tokens.ts: NOBODY_READS_ME']);
});
