// The production bundle (what the image runs) must work with no node_modules beside it: a require() that escapes
// the bundler would only fail in a cluster. It ships the executor's V8 compile cache, and its chunks keep what a Job
// loads to what the run needs.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import type { Metafile } from 'esbuild';
import { exposedApi, REPO_DIR, swagger2 } from '../helpers/fixtures.ts';
import { COMPILE_CACHE_DIR, COMPILE_CACHE_WARMER } from '../../scripts/build.ts';

// tap's own 30 s default would stop a direct `node` run while esbuild builds on a loaded machine.
t.setTimeout(300_000);

// Built outside the repository (so module resolution cannot walk up into its node_modules) and not into dist/,
// which other tests and benchmarks may be using at the same time.
const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-bundle-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const build = spawnSync(process.execPath, [join(REPO_DIR, 'scripts/build.ts'), '--outdir', join(dir, 'dist')], { encoding: 'utf8', timeout: 180_000 });
t.equal(build.status, 0, `the bundle builds: ${build.stderr}`);
t.notMatch(build.stderr, 'warning', 'the build wrote its compile cache');
const meta = JSON.parse(readFileSync(join(dir, 'dist/meta.json'), 'utf8')) as Metafile;
/** The output file built from `entryPoint`, as the metafile names it. */
const outputOf = (entryPoint: string): string => {
  const found = Object.entries(meta.outputs).find(([f, o]) => o.entryPoint === entryPoint && f.endsWith('.mjs'));
  if (!found) throw new Error(`no output for ${entryPoint}`);
  return found[0];
};
/** The source inputs of an output and of every chunk it imports statically: what loading it loads. */
const staticInputs = (output: string, seen = new Set<string>()): Set<string> => {
  if (seen.has(output)) return new Set();
  seen.add(output);
  const inputs = new Set(Object.keys(meta.outputs[output]!.inputs));
  for (const i of meta.outputs[output]!.imports) {
    if (!i.external && i.kind === 'import-statement') for (const x of staticInputs(i.path, seen)) inputs.add(x);
  }
  return inputs;
};

t.test('dist/ runs on its own', async (t) => {
  const bad = exposedApi({ metadata: { name: 'inline' }, spec: { specification: YAML.stringify({ ...swagger2([['get', '/a']]), swagger: '2.0' }) } });
  writeFileSync(join(dir, 'api.yaml'), YAML.stringify(exposedApi()) + '---\n' + YAML.stringify(bad));
  const r = spawnSync(process.execPath, [join(dir, 'dist/exposedapi-apim.mjs'), 'validate', join(dir, 'api.yaml')], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_PATH: '' } });
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, '* spec.specification: Invalid value: "<inline OpenAPI document', 'document checks (ajv, swagger-parser, yaml) work from the bundle');
  t.match(r.stdout, '2 ExposedAPIs checked, 1 invalid');
});

t.test('the executor uses the compile cache shipped with the bundle, also once the bundle has moved', async (t) => {
  // The image builds dist/ in one place and runs it from /app/dist; the cache must still match ("portable").
  const moved = join(dir, 'moved', 'dist');
  cpSync(join(dir, 'dist'), moved, { recursive: true });
  const cacheFiles = (): number => readdirSync(join(moved, COMPILE_CACHE_DIR), { recursive: true }).length;
  const before = cacheFiles();
  t.ok(before > 0, 'the build wrote cache entries');
  const env = { ...process.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
  const r = spawnSync(process.execPath, [join(moved, 'exposedapi-apim.mjs'), 'execute', '--help'], { cwd: dir, encoding: 'utf8', timeout: 60_000, env });
  t.equal(r.status, 0, r.stderr);
  const executeCommand = outputOf('cli/execute-command.ts').split('/').pop()!;
  t.match(r.stdout + r.stderr, new RegExp(`V8 code cache for ESM file://${moved}/chunks/${executeCommand.replace(/\./g, '\\.')} was accepted`), 'the execute command loads from the cache');
  t.notMatch(r.stdout + r.stderr, /rejected|was not found|Cannot create/, 'no chunk it loads misses the cache');
  t.equal(cacheFiles(), before, 'the run wrote nothing: a read-only image filesystem loses nothing');

  // Every chunk an executor run may load is in the cache: the warmer, run again in the moved bundle, finds each.
  const warmer = readFileSync(join(moved, COMPILE_CACHE_WARMER), 'utf8');
  for (const entry of ['cli/execute-command.ts', 'executor/execute-apply.ts', 'executor/execute-delete.ts']) t.ok(warmer.includes(outputOf(entry).split('/').slice(-2).join('/')), `${entry} is warmed`);
  // Loaded on demand: the document checks (for a document admission did not record) and @azure/identity (for
  // credentials the executor does not speak itself, executor/azure-token.ts).
  for (const input of ['core/openapi-schema.ts', 'node_modules/@azure/identity/']) {
    t.ok(Object.entries(meta.outputs).some(([f, o]) => Object.keys(o.inputs).some((i) => i.includes(input)) && warmer.includes(f.split('/').slice(-2).join('/'))), `${input} is warmed`);
  }
  const again = spawnSync(process.execPath, [join(moved, COMPILE_CACHE_WARMER)], { encoding: 'utf8', timeout: 120_000, env });
  t.equal(again.status, 0, again.stderr.split('\n').filter((l) => !l.startsWith('[compile cache]')).join('\n'));
  const accepted = (again.stderr.match(/V8 code cache for ESM \S+ was accepted/g) ?? []).length;
  t.equal(accepted, (warmer.match(/"chunks\//g) ?? []).length, 'every warmed chunk is accepted after the move');
  t.notMatch(again.stderr, /rejected/);
});

/** Every input an output can load, following dynamic imports too. */
const reachableInputs = (output: string, seen = new Set<string>()): Set<string> => {
  if (seen.has(output)) return new Set();
  seen.add(output);
  const inputs = new Set(Object.keys(meta.outputs[output]!.inputs));
  for (const i of meta.outputs[output]!.imports) if (!i.external && (i.kind === 'import-statement' || i.kind === 'dynamic-import')) for (const x of reachableInputs(i.path, seen)) inputs.add(x);
  return inputs;
};

t.test('what a Job loads: the document checks only for a document admission did not check, no Azure SDK', async (t) => {
  // The OpenAPI validator (ajv, swagger-parser, the schemas, the local $ref checks) costs a run about 0.08 CPU-s and
  // 10 MB: a delete never needs it, an apply only when the document's digest is not the one admission recorded.
  const validator = /node_modules\/(ajv|ajv-draft-04|@apidevtools)\/|core\/(openapi-schema|local-refs)\.ts$/;
  for (const entry of ['cli/execute-command.ts', 'executor/execute-delete.ts', 'executor/execute-apply.ts']) {
    t.same([...staticInputs(outputOf(entry))].filter((i) => validator.test(i)), [], `${entry} does not load it up front`);
  }
  t.notOk([...staticInputs(outputOf('executor/execute-delete.ts'))].some((i) => /core\/(spec-document|validate-exposedapi)\.ts$/.test(i)), 'a delete does not even parse documents');
  const apply = reachableInputs(outputOf('executor/execute-apply.ts'));
  t.ok([...apply].some((i) => i.includes('node_modules/ajv/')), 'apply can still load the validator (the checks above would pass vacuously otherwise)');
  // ARM and Entra ID are spoken by executor/arm-client.ts and azure-token.ts; @azure/identity only for the
  // credentials those do not cover (managed identity, certificates), on demand.
  const executor = reachableInputs(outputOf('cli/execute-command.ts'));
  for (const pkg of ['@azure/arm-apimanagement', '@kubernetes/client-node']) {
    t.notOk([...executor].some((i) => i.includes(`node_modules/${pkg}/`)), `${pkg} is never loaded by a Job`);
  }
  for (const entry of ['cli/execute-command.ts', 'executor/execute-delete.ts', 'executor/execute-apply.ts']) {
    t.notOk([...staticInputs(outputOf(entry))].some((i) => i.includes('node_modules/@azure/identity/')), `${entry}: @azure/identity is not loaded up front`);
  }
});
