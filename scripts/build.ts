// Builds the production bundle in dist/: what the container image runs (`node dist/exposedapi-apim.mjs <command>`).
// Bundling keeps start-up and memory small (one file per chunk instead of thousands of modules, no type stripping at
// run time, unused parts of the Kubernetes client dropped); code splitting keeps subcommands lazy.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: {
    'exposedapi-apim': new URL('../cli/main.ts', import.meta.url).pathname,
    'document-check-worker': new URL('../webhook/document-check-worker.ts', import.meta.url).pathname,
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
const bytes = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.mjs')).reduce((n, [, o]) => n + o.bytes, 0);
process.stdout.write(`built dist/ (${(bytes / 1048576).toFixed(1)} MiB of JavaScript)\n`);
