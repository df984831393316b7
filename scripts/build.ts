// Builds the production bundle: what the container image runs (`node dist/exposedapi-apim.mjs <command>`).
// Bundling keeps start-up and memory small (one file per chunk instead of thousands of modules, no type stripping at
// run time, unused parts of the Kubernetes client dropped); code splitting keeps subcommands lazy. Writes DIR/meta.json
// (esbuild's metafile: every input of every output), which test/cli/dependency-rule.test.ts reads.
//   node scripts/build.ts [--outdir DIR]      (default dist/)
import { build, type Plugin } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
  return Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.mjs')).reduce((n, [, o]) => n + o.bytes, 0);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: `${REPO}dist` } } });
  const outdir = resolve(values.outdir!);
  const bytes = await buildBundle(outdir);
  process.stdout.write(`built ${outdir} (${(bytes / 1048576).toFixed(1)} MiB of JavaScript)\n`);
}
