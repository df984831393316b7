// The repository's TypeScript sources, for the tests that read the code as text (test/source/): one walk, each test
// saying which folders it leaves out. Hidden folders (.git, .sandbox, .tap) are always left out.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function sourceFiles(dir: string, skip: ReadonlySet<string>): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || skip.has(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path, skip);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}
