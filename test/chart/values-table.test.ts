// The README's values table is the chart's schema and defaults as they are now (scripts/generate-values-table.ts),
// and it lists every value, so what a platform team reads is what `helm install` accepts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeWithValuesTable, valuesTable } from '../../scripts/generate-values-table.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { CHART_DIR } from './helm.ts';

t.test('the README\'s values table is generated from the schema as it is now', async (t) => {
  const readme = readFileSync(join(REPO_DIR, 'README.md'), 'utf8');
  t.equal(readme, readmeWithValuesTable(readme), 'run: node scripts/generate-values-table.ts');
});

t.test('the table has a row for every value of values.yaml, with its default', async (t) => {
  const table = valuesTable();
  const rows = new Map([...table.matchAll(/^\| `([^`]+)` \| (.*?) \| (`[A-Z_]+`)? \|/gm)].map((m) => [m[1]!, { def: m[2]!, env: m[3] }]));
  t.equal(rows.get('apim.subscriptionId')?.env, '`APIM_SUBSCRIPTION_ID`', 'a value names its variable');
  t.equal(rows.get('dispatcher.maxActiveJobs')?.def, '`10`', 'and shows its default');
  const values = readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8');
  // Every key path of values.yaml (leaves, and maps the schema leaves open) has a row or a row under it.
  const paths: string[] = [];
  const stack: { indent: number; key: string }[] = [];
  for (const line of values.split('\n')) {
    const m = /^( *)([A-Za-z][\w]*):/.exec(line);
    if (!m) continue;
    while (stack.length && stack.at(-1)!.indent >= m[1]!.length) stack.pop();
    stack.push({ indent: m[1]!.length, key: m[2]! });
    paths.push(stack.map((s) => s.key).join('.'));
  }
  t.ok(paths.length > 100, `${paths.length} key paths in values.yaml`);
  for (const path of paths) t.ok([...rows.keys()].some((r) => r === path || r.startsWith(`${path}.`) || path.startsWith(`${r}.`)), `${path} is in the table`);
});
