// bench:image — the operator image's start-up under runc with the restrictions of the image test
// (test/image/runc-container.ts), against the APIM emulator and a private control plane on loopback, beside
// `node -e 0` in the same image (start → exit):
// - the executor: container start → its first request to APIM (the client-credentials token POST of
//   executor/azure-token.ts). TMF620 by URL, applied as admitted (document digest recorded), a new ExposedAPI each run;
//   "cache off" runs the same with NODE_DISABLE_COMPILE_CACHE=1, to show what the compile cache built into the image
//   is worth. The "Fast Jobs" target (issue 13): first APIM request ≤ 2× bare Node.
// - the webhook+dispatcher as the Deployment runs it (test/image/webhook-container.ts: its args, env and ConfigMap,
//   the mounted TLS Secret, the ServiceAccount volume and in-cluster environment): container start → the server
//   answers at all, and → GET /readyz answers 200 (the ExposedAPI watch synced, the document checker warm), polled
//   on loopback every 20 ms. Each run ends with SIGTERM, as a rollout ends a pod.
// Also prints the image's build time and size. Prints; asserts nothing.
//   node test/bench/image-bench.ts [--runs N] [--out DIR] [--dist DIR]
// --out: where the image is built, or reused when its inputs are unchanged (.image/). The bundle is built afresh from
// the checkout unless --dist names one: dist/ may be older than the sources, and would measure other code.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBundle } from '../../scripts/build.ts';
import { buildImage, describe, readImage } from '../../scripts/build-image.ts';
import { NODE_PATH } from '../../scripts/image/image-config.ts';
import { documentDigest } from '../../core/document-digest.ts';
import { DOCUMENT_DIGEST_ANNOTATION } from '../../core/exposedapi-model.ts';
import { executorBench } from '../executor/harness.ts';
import { REPO_DIR, referenceText, TMF620_V4 } from '../helpers/fixtures.ts';
import { executorContainerConfig, imageProblems, unpackImage } from '../image/image-fixture.ts';
import { removeContainers, startContainer, type ContainerOptions, type ImageRunConfig } from '../image/runc-container.ts';
import { runtimeDefaultSeccomp } from '../image/runtime-default-seccomp.ts';
import { untilReady, webhookPod, type ReadyTimes } from '../image/webhook-container.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, out: { type: 'string', default: join(REPO_DIR, '.image') }, dist: { type: 'string' } } });
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a whole number ≥ 1, got ${JSON.stringify(values.runs)}`);
const problems = imageProblems();
if (problems.length) throw new Error(`the image bench cannot run here:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

const teardowns: (() => unknown)[] = [];
try {
  const dir = await mkdtemp(join(tmpdir(), 'exposedapi-apim-image-bench-'));
  teardowns.push(() => rm(dir, { recursive: true, force: true }));
  const dist = values.dist ?? join(dir, 'dist');
  if (!values.dist) await buildBundle(dist);
  const image = await buildImage({ out: values.out!, dist, log: (l) => console.error(`build-image: ${l}`) });
  console.log(describe(image));
  teardowns.push(() => removeContainers(join(dir, 'runc')));
  const rootfs = unpackImage(image.layout, image.tag, join(dir, 'unpacked'));
  const run = readImage(image.layout, image.tag).config['config'] as ImageRunConfig;
  const seccomp = runtimeDefaultSeccomp();

  let firstRequest: number | undefined;
  const scope = { name: 'image-bench', teardown: (fn: () => unknown) => void teardowns.push(fn) };
  const b = await executorBench(scope, {
    emulator: { importDelayMs: 0, log: () => void (firstRequest ??= performance.now()) },
  });
  const text = referenceText(TMF620_V4);
  b.specs.put('TMF620.json', text);

  let n = 0;
  const container = (o: Partial<ContainerOptions>) => startContainer({ stateDir: join(dir, 'runc'), bundleDir: join(dir, 'containers', String(++n)), rootfs, image: run, seccomp, ...o });

  /** start → exit of `node -e 0` in the image. */
  const bare = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await container({ entrypoint: [NODE_PATH, '-e', '0'] }).done;
    if (r.code !== 0) throw new Error(`node -e 0 in the image: exit ${r.code}: ${r.stderr}`);
    return performance.now() - t0;
  };
  /** start → first APIM request, and start → exit, of an apply of a new ExposedAPI in the image. */
  const apply = async (env: Record<string, string>): Promise<{ first: number; exit: number }> => {
    const p = await b.put({
      apiVersion: 'oda.tmforum.org/v1',
      kind: 'ExposedAPI',
      metadata: { name: `bench-${n}`, annotations: { [DOCUMENT_DIGEST_ANNOTATION]: documentDigest(text) } },
      spec: { name: 'productcatalogmanagement', apiType: 'openapi', implementation: 'pc', path: `/bench-${n}/productCatalogManagement/v4`, port: 8080, specification: { url: b.specs.url('TMF620.json'), version: 'v4' } },
    });
    const config = executorContainerConfig(b, join(dir, 'config'), { LOG_LEVEL: 'info', ...env });
    firstRequest = undefined;
    const t0 = performance.now();
    const r = await container({ args: ['execute', 'apply', '--namespace', b.ns, '--name', p.name, '--spec-hash', p.hash], ...config }).done;
    const exit = performance.now() - t0;
    if (r.code !== 0 || firstRequest === undefined) throw new Error(`execute apply in the image: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return { first: firstRequest - t0, exit };
  };

  const pod = await webhookPod(b.cp, scope, join(dir, 'webhook-pod'));
  /** start → first answer and → /readyz 200 of the webhook+dispatcher container; then SIGTERM, as a rollout does. */
  const webhook = async (): Promise<ReadyTimes> => {
    const t0 = performance.now();
    const c = container({ args: pod.args, env: pod.env, mounts: pod.mounts });
    const times = await untilReady(pod.url, pod.caPem, t0, c.done).catch(async (e: unknown) => {
      c.kill();
      await c.done;
      throw e;
    });
    const r = await c.stop();
    if (r.code !== 0) throw new Error(`the webhook container did not stop cleanly on SIGTERM: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return times;
  };

  // Warm-up (page cache, the apiserver's caches), not counted.
  await bare();
  await apply({});
  await webhook();
  const samples = { bare: [] as number[], cached: [] as { first: number; exit: number }[], off: [] as { first: number; exit: number }[], webhook: [] as ReadyTimes[] };
  for (let i = 0; i < RUNS; i++) {
    samples.bare.push(await bare());
    samples.cached.push(await apply({}));
    samples.off.push(await apply({ NODE_DISABLE_COMPILE_CACHE: '1' }));
    samples.webhook.push(await webhook());
  }
  const median = (xs: number[]): number => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;
  const bareMs = median(samples.bare);
  console.log(`\nIn the image under runc (read-only root, no capabilities, RuntimeDefault seccomp), ${RUNS} runs, medians:`);
  console.log(`  node -e 0, start → exit                          ${bareMs.toFixed(0)} ms`);
  for (const [label, xs] of [['executor, start → first APIM request', samples.cached], ['  the same, compile cache off', samples.off]] as const) {
    const first = median(xs.map((x) => x.first));
    console.log(`  ${label.padEnd(47)} ${first.toFixed(0)} ms = ${(first / bareMs).toFixed(1)}× node -e 0 (target ≤ 2×); start → exit ${median(xs.map((x) => x.exit)).toFixed(0)} ms`);
  }
  const ready = median(samples.webhook.map((w) => w.readyMs));
  console.log(`  ${'webhook+dispatcher, start → /readyz 200'.padEnd(47)} ${ready.toFixed(0)} ms = ${(ready / bareMs).toFixed(1)}× node -e 0; start → first answer (listening) ${median(samples.webhook.map((w) => w.listeningMs)).toFixed(0)} ms`);
  console.log(`    (runs: ${samples.webhook.map((w) => w.readyMs.toFixed(0)).join(', ')} ms; the compile cache in the image covers the executor's chunks only)`);
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
