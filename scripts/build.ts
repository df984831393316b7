// Builds the production bundle: what the container image runs (`node dist/exposedapi-apim.mjs <command>`).
// Bundling keeps start-up and memory small (one file per chunk instead of thousands of modules, no type stripping at
// run time, unused parts of the Kubernetes client dropped); code splitting keeps subcommands lazy. Writes DIR/meta.json
// (esbuild's metafile: every input of every output), which test/cli/dependency-rule.test.ts reads.
//   node scripts/build.ts [--outdir DIR]      (default dist/)
import { build, type Metafile, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = new URL('../', import.meta.url).pathname;

/**
 * Commands that are development tools: `cluster` and `sandbox` run dev-cluster/ (the local control plane, the node
 * agent, the sandbox, and this script with esbuild), `emulator` runs emulator/. The image runs the webhook, the
 * dispatcher and the executor only, so the bundle gets cli/source-checkout-only.ts in their place. `conformance` runs
 * conformance/ and, with --emulator, emulator/.
 */
export const SOURCE_CHECKOUT_COMMANDS = ['cluster', 'sandbox', 'emulator', 'conformance'];

const leaveOutDevelopmentCommands: Plugin = {
  name: 'leave-out-development-commands',
  setup(b) {
    const files = new Set(SOURCE_CHECKOUT_COMMANDS.map((name) => `${REPO}cli/${name}-command.ts`));
    b.onResolve({ filter: /-command\.ts$/ }, (args) =>
      files.has(resolve(args.resolveDir, args.path)) ? { path: `${REPO}cli/source-checkout-only.ts` } : undefined);
  },
};

/**
 * The V8 compile cache the bundle ships (`DIR/compile-cache/`, used by cli/main.ts for `execute`): each Job is a new
 * process, and compiling its chunks (the Azure identity and APIM SDKs, the validation libraries: about 3.5 MB of
 * JavaScript) was the largest single share of its start-up CPU (docs/architecture.md, "The Job's process"). Written by
 * DIR/warm-compile-cache.mjs, which loads every chunk an executor run can load; the Dockerfile runs it again with the
 * image's own Node (V8 rejects a cache from another Node version), as root before the image's filesystem becomes
 * read-only. "portable" keys entries by their path relative to the cache, so the cache written in dist/ is valid in
 * /app/dist/.
 */
export const COMPILE_CACHE_DIR = 'compile-cache';
export const COMPILE_CACHE_WARMER = 'warm-compile-cache.mjs';

/**
 * The chunks an `execute` run may load: execute-command's and every chunk it imports, statically or dynamically (the
 * apply and delete steps, the document checks a document admission did not record, @azure/identity for the
 * credentials the executor does not speak itself), transitively. A chunk imported dynamically is only warmed, not run
 * by a Job that does not need it.
 */
export function executorChunks(meta: Metafile, outdir: string): string[] {
  const outputs = Object.entries(meta.outputs).filter(([file]) => file.endsWith('.mjs'));
  const entry = outputs.find(([, o]) => o.entryPoint === 'cli/execute-command.ts');
  if (!entry) throw new Error('the build has no output for cli/execute-command.ts');
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of meta.outputs[file]?.imports ?? []) if (!i.external && (i.kind === 'import-statement' || i.kind === 'dynamic-import')) visit(i.path);
  };
  visit(entry[0]);
  // Paths in the metafile are relative to the working directory of the build.
  return [...seen].map((file) => relative(outdir, resolve(file))).sort();
}

function warmerSource(chunks: string[]): string {
  return `// Written by scripts/build.ts: fills ./${COMPILE_CACHE_DIR}/ with V8's compile cache of the chunks an executor run
// loads. Run at build time (scripts/build.ts, and the Dockerfile with the image's Node); never at run time.
import { constants, enableCompileCache, flushCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
const directory = fileURLToPath(new URL('./${COMPILE_CACHE_DIR}/', import.meta.url));
const result = enableCompileCache({ directory, portable: true });
if (result.status !== constants.compileCacheStatus.ENABLED) {
  process.stderr.write(\`compile cache not written to \${directory}: \${result.message ?? 'status ' + result.status}\n\`);
  process.exit(1);
}
for (const chunk of ${JSON.stringify(chunks, null, 2)}) await import(new URL(chunk, import.meta.url).href);
flushCompileCache();
`;
}

/** Builds into `outdir` (emptied first) and returns the size of the JavaScript written. */
export async function buildBundle(outdir: string): Promise<number> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: {
      'exposedapi-apim': `${REPO}cli/main.ts`,
      'document-check-worker': `${REPO}webhook/document-check-worker.ts`,
    },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    plugins: [leaveOutDevelopmentCommands],
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __exposedapiCreateRequire } from 'node:module'; const require = __exposedapiCreateRequire(import.meta.url);" },
  });
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  writeFileSync(join(outdir, COMPILE_CACHE_WARMER), warmerSource(executorChunks(result.metafile, outdir)));
  // The cache is an optimisation: a build whose warm-up fails still runs, only slower, so it is reported, not fatal.
  const warm = spawnSync(process.execPath, [join(outdir, COMPILE_CACHE_WARMER)], { encoding: 'utf8', timeout: 120_000 });
  if (warm.status !== 0) process.stderr.write(`warning: no compile cache in ${outdir}: ${warm.stderr || warm.error?.message || `exit ${warm.status}`}\n`);
  return Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.mjs')).reduce((n, [, o]) => n + o.bytes, 0);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: `${REPO}dist` } } });
  const outdir = resolve(values.outdir!);
  const bytes = await buildBundle(outdir);
  process.stdout.write(`built ${outdir} (${(bytes / 1048576).toFixed(1)} MiB of JavaScript)\n`);
}
