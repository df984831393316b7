// Builds the production bundle: what the container image runs (`node dist/exposedapi-apim.mjs <command>`).
// Bundling keeps start-up and memory small (one file per chunk instead of thousands of modules, no type stripping at
// run time, unused parts of the Kubernetes client dropped); code splitting keeps subcommands lazy.
//   node scripts/build.ts [--outdir DIR]      (default dist/)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = new URL('../', import.meta.url).pathname;

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
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __exposedapiCreateRequire } from 'node:module'; const require = __exposedapiCreateRequire(import.meta.url);" },
  });
  return Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.mjs')).reduce((n, [, o]) => n + o.bytes, 0);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: `${REPO}dist` } } });
  const outdir = resolve(values.outdir!);
  const bytes = await buildBundle(outdir);
  process.stdout.write(`built ${outdir} (${(bytes / 1048576).toFixed(1)} MiB of JavaScript)\n`);
}
