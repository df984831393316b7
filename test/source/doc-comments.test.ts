// A doc comment documents the declaration that follows it. Two in a row mean the first lost its declaration (a
// function moved or deleted, its comment left behind) and now misdescribes the second to every editor tooltip.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { sourceFiles as walkSources } from '../helpers/source-files.ts';

const SKIP = new Set(['node_modules', 'dist', 'fixtures']);

const sourceFiles = (dir: string): string[] => walkSources(dir, SKIP);

/** `file:line` of each doc comment that directly follows another one. */
function orphanedDocComments(root: string): string[] {
  const found: string[] = [];
  for (const path of sourceFiles(root)) {
    let inDoc = false;
    let docEndedOnLine = -2;
    readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
      const s = line.trim();
      if (!inDoc && s.startsWith('/**')) {
        if (docEndedOnLine === i - 1) found.push(`${relative(root, path)}:${i + 1}`);
        if (s.endsWith('*/')) docEndedOnLine = i;
        else inDoc = true;
        return;
      }
      if (inDoc) {
        if (s.endsWith('*/')) {
          inDoc = false;
          docEndedOnLine = i;
        }
        return;
      }
      docEndedOnLine = -2;
    });
  }
  return found;
}

t.test('no doc comment is left without its declaration', async (t) => {
  t.same(orphanedDocComments(REPO_DIR), [], 'delete the stale comment above, or merge the two');
});

t.test('the check finds a comment directly above another, one-line or block', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'doc-comments-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.ts'), [
    '/** The webhook, registered by URL. */',
    '/** One serving certificate. */',
    'function tls() {}',
    '/**',
    ' * A block.',
    ' */',
    '/** Another. */',
    'const x = 1;',
    '/** Fine. */',
    'const y = 2;',
  ].join('\n'));
  t.same(orphanedDocComments(dir), ['a.ts:2', 'a.ts:7']);
});
