// Dependencies point one way (docs/architecture.md): the operator image runs the webhook (with the dispatcher) and the
// executor, and nothing it runs may reach development or test code. Two checks: the bundle's esbuild metafile
// (scripts/build.ts writes meta.json) says what the image really contains, and a scan of the sources says which
// folder imports which, so a wrong import fails here even before it reaches the bundle.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { SOURCE_CHECKOUT_COMMANDS } from '../../scripts/build.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';

/** What the bundle must not contain: development tools, tests, the APIM emulator, the conformance suite, the build script and esbuild. */
const NOT_IN_BUNDLE = [/^dev-cluster\//, /^test\//, /^emulator\//, /^conformance\//, /^scripts\//, /(^|\/)node_modules\/esbuild\//];

/** Which top-level folders a folder's code may import (its own always). Type-only imports count too. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  certs: [],
  kube: ['core'],
  dispatcher: ['core', 'kube'],
  executor: ['core'],
  webhook: ['core', 'kube', 'dispatcher'],
  cli: ['core', 'certs', 'kube', 'webhook', 'dispatcher', 'executor', 'conformance'],
  conformance: ['core'],
  emulator: ['certs'],
  scripts: ['core'],
  'dev-cluster': ['core', 'certs', 'kube', 'webhook', 'dispatcher', 'executor', 'cli', 'emulator', 'scripts'],
  test: ['*'],
};

/** The commands the bundle leaves out may also import development code: only a source checkout runs them. */
const SOURCE_CHECKOUT_IMPORTS: readonly string[] = ['dev-cluster', 'emulator'];

interface Metafile {
  inputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, unknown> }>;
}

/** Inputs of the bundle that match `NOT_IN_BUNDLE`, each with the import chain that brought it in from an entry. */
function forbiddenInputs(meta: Metafile): string[] {
  const entries = Object.values(meta.outputs).flatMap((o) => (o.entryPoint ? [o.entryPoint] : []));
  const via = new Map<string, string>(entries.map((e) => [e, '']));
  const queue = [...entries];
  while (queue.length > 0) {
    const from = queue.shift()!;
    for (const i of meta.inputs[from]?.imports ?? []) {
      if (i.external || via.has(i.path)) continue;
      via.set(i.path, from);
      queue.push(i.path);
    }
  }
  const chain = (path: string): string => {
    const steps = [path];
    for (let p = via.get(path); p; p = via.get(p)) steps.unshift(p);
    return steps.join(' → ');
  };
  const bundled = new Set(Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs)));
  return [...bundled].filter((p) => NOT_IN_BUNDLE.some((r) => r.test(p))).sort().map(chain);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'dist') return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\1/g;
const folderOf = (root: string, path: string): string => relative(root, path).split(sep)[0]!;

/** `importer: specifier (folder → folder)` for every relative import that crosses folders against `MAY_IMPORT`. */
function wrongImports(root: string, sourceCheckoutCommands: readonly string[] = SOURCE_CHECKOUT_COMMANDS): string[] {
  const exempt = new Set(sourceCheckoutCommands.map((name) => join(root, 'cli', `${name}-command.ts`)));
  const wrong: string[] = [];
  for (const file of sourceFiles(root)) {
    const from = folderOf(root, file);
    const allowed = MAY_IMPORT[from];
    if (allowed === undefined) {
      wrong.push(`${relative(root, file)}: folder ${from}/ is not in the dependency table (add it here and to docs/architecture.md)`);
      continue;
    }
    if (allowed.includes('*')) continue;
    // Strings in the file's own test data look like imports; only the module's real import lines count.
    const text = readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*)/.test(l)).join('\n');
    for (const [, , spec = ''] of text.matchAll(IMPORT)) {
      const to = folderOf(root, resolve(dirname(file), spec));
      if (to === from || allowed.includes(to)) continue;
      if (exempt.has(file) && SOURCE_CHECKOUT_IMPORTS.includes(to)) continue;
      wrong.push(`${relative(root, file)}: ${spec} (${from}/ → ${to}/)`);
    }
  }
  return wrong.sort();
}

t.test('the bundle the image runs contains no development or test code, no emulator and no esbuild', async (t) => {
  // Built outside dist/, which other tests and benchmarks may be using at the same time.
  const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-dependency-rule-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const build = spawnSync(process.execPath, [join(REPO_DIR, 'scripts/build.ts'), '--outdir', join(dir, 'dist')], { cwd: REPO_DIR, encoding: 'utf8', timeout: 180_000 });
  t.equal(build.status, 0, build.stderr);
  const meta = JSON.parse(readFileSync(join(dir, 'dist/meta.json'), 'utf8')) as Metafile;
  const inputs = Object.keys(meta.inputs);
  for (const part of ['webhook/run-webhook.ts', 'dispatcher/dispatcher.ts', 'cli/execute-command.ts', 'cli/source-checkout-only.ts']) {
    t.ok(inputs.includes(part), `the bundle contains ${part} (the check sees the real graph)`);
  }
  t.same(forbiddenInputs(meta), [], 'import chains from the bundle entry to code the image must not carry');

  for (const name of SOURCE_CHECKOUT_COMMANDS) {
    const r = spawnSync(process.execPath, [join(dir, 'dist/exposedapi-apim.mjs'), name, '--help'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    t.equal(r.status, 2, `${name} from the bundle`);
    t.match(r.stderr, `exposedapi-apim ${name} is a development tool and runs from a source checkout: npm run cli -- ${name}`);
  }
});

t.test('each folder imports only what docs/architecture.md allows', async (t) => {
  t.same(wrongImports(REPO_DIR), [], 'move the code, or import it the other way round');
});

t.test('the checks find a wrong import and the chain that brings it into the bundle', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dependency-rule-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['core', 'webhook', 'cli', 'dev-cluster', 'test']) mkdirSync(join(root, d));
  writeFileSync(join(root, 'core/model.ts'), "import type { Server } from '../webhook/server.ts';\n");
  writeFileSync(join(root, 'webhook/server.ts'), "import { x } from '../core/model.ts';\nimport { plane } from '../dev-cluster/plane.ts';\n// import { y } from '../test/z.ts';\n");
  writeFileSync(join(root, 'cli/sandbox-command.ts'), "const m = await import('../dev-cluster/sandbox.ts');\n");
  writeFileSync(join(root, 'cli/webhook-command.ts'), "const m = await import('../dev-cluster/sandbox.ts');\n");
  writeFileSync(join(root, 'dev-cluster/plane.ts'), "import { helper } from '../test/helper.ts';\n");
  writeFileSync(join(root, 'test/a.test.ts'), "import { plane } from '../dev-cluster/plane.ts';\n");
  t.same(wrongImports(root, ['sandbox']), [
    'cli/webhook-command.ts: ../dev-cluster/sandbox.ts (cli/ → dev-cluster/)',
    'core/model.ts: ../webhook/server.ts (core/ → webhook/)',
    'dev-cluster/plane.ts: ../test/helper.ts (dev-cluster/ → test/)',
    'webhook/server.ts: ../dev-cluster/plane.ts (webhook/ → dev-cluster/)',
  ]);

  const meta: Metafile = {
    inputs: {
      'cli/main.ts': { imports: [{ path: 'cli/sandbox-command.ts' }, { path: 'node:fs', external: true }] },
      'cli/sandbox-command.ts': { imports: [{ path: 'dev-cluster/sandbox/sandbox.ts' }] },
      'dev-cluster/sandbox/sandbox.ts': { imports: [{ path: 'node_modules/esbuild/lib/main.js' }] },
      'node_modules/esbuild/lib/main.js': { imports: [] },
    },
    outputs: {
      'dist/exposedapi-apim.mjs': { entryPoint: 'cli/main.ts', inputs: { 'cli/main.ts': {} } },
      'dist/chunks/sandbox.mjs': { inputs: { 'cli/sandbox-command.ts': {}, 'dev-cluster/sandbox/sandbox.ts': {}, 'node_modules/esbuild/lib/main.js': {} } },
    },
  };
  t.same(forbiddenInputs(meta), [
    'cli/main.ts → cli/sandbox-command.ts → dev-cluster/sandbox/sandbox.ts',
    'cli/main.ts → cli/sandbox-command.ts → dev-cluster/sandbox/sandbox.ts → node_modules/esbuild/lib/main.js',
  ]);
});
