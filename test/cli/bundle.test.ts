// The production bundle (what the image runs) must work with no node_modules beside it: a require() that escapes
// the bundler would only fail in a cluster.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { exposedApi, REPO_DIR, swagger2 } from '../helpers/fixtures.ts';

t.test('dist/ runs on its own', async (t) => {
  // Built outside the repository (so module resolution cannot walk up into its node_modules) and not into dist/,
  // which other tests and benchmarks may be using at the same time.
  const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const build = spawnSync(process.execPath, [join(REPO_DIR, 'scripts/build.ts'), '--outdir', join(dir, 'dist')], { encoding: 'utf8', timeout: 120_000 });
  t.equal(build.status, 0, build.stderr);
  const bad = exposedApi({ metadata: { name: 'inline' }, spec: { specification: YAML.stringify({ ...swagger2([['get', '/a']]), swagger: '2.0' }) } });
  writeFileSync(join(dir, 'api.yaml'), YAML.stringify(exposedApi()) + '---\n' + YAML.stringify(bad));
  const r = spawnSync(process.execPath, [join(dir, 'dist/exposedapi-apim.mjs'), 'validate', join(dir, 'api.yaml')], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_PATH: '' } });
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, '* spec.specification: Invalid value: "<inline OpenAPI document', 'document checks (ajv, swagger-parser, yaml) work from the bundle');
  t.match(r.stdout, '2 ExposedAPIs checked, 1 invalid');
});
