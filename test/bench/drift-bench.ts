// bench:drift — drift verification of 1,000 unchanged APIs (issue 16, Benchmarks): one `execute verify` run of the
// production bundle, as its Job runs it, against a private control plane and the APIM emulator with ARM's read bucket
// enforced at its real size (250, refilled 25/s: emulator/throttling.ts, docs/apim-contract.md). One API is published
// by a real apply; the other 999 are copies of it made in the emulator's own state (fast, not 999 Jobs), each with its
// own id, path, mark and policy (the counter keys carry the id), linked to the same tag and product; their ExposedAPIs
// are created with the status an apply leaves. Prints APIM reads per API, the elapsed time beside the read bucket's
// floor ((reads − 250) / 25 s), writes (must be 0), 429s, and the run's peak RSS. Asserts only that nothing drifted
// and nothing was written (`npm run bench:drift`; the script builds dist/).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderMark, parseMark } from '../../executor/api-mark.ts';
import { FINALIZER, SPEC_HASH_ANNOTATION, readExposedApi } from '../../core/exposedapi-model.ts';
import { specHash } from '../../core/spec-hash.ts';
import { key } from '../../emulator/service-model.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { executorBench, instanceIdOf, startExecutor } from '../executor/harness.ts';

const { values } = parseArgs({ options: { apis: { type: 'string', default: '1000' }, source: { type: 'boolean', default: false } } });
const N = Number(values.apis);
const BUNDLE = join(REPO_DIR, 'dist/exposedapi-apim.mjs');
const entry = values.source ? join(REPO_DIR, 'cli/main.ts') : BUNDLE;
if (!existsSync(entry)) throw new Error('dist/exposedapi-apim.mjs is missing: run `node scripts/build.ts` (npm run bench:drift does), or pass --source');

const teardowns: (() => unknown)[] = [];
const bench = { name: 'drift-bench', teardown: (fn: () => unknown) => teardowns.push(fn) };
try {
  const b = await executorBench(bench, { emulator: { importDelayMs: 0, throttling: { enabled: true } } });
  // A fixed backend base URL: the run then reads no Ingress per API (those are Kubernetes reads, not ARM's).
  const env = { ROUTE_BASE_URL: 'http://10.0.0.10', CREATE_MISSING_PRODUCTS: 'true', LOG_LEVEL: 'info' };
  const exposedApi = (i: number) => ({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: `api-${i}`, namespace: b.ns },
    spec: { name: `api-${i}`, apiType: 'prometheus', implementation: `api-${i}-sm`, path: `/team/api-${i}/metrics`, port: 4000, rateLimit: { enabled: true, limit: '100', interval: 'pm' }, apim: { tags: ['team-a'], products: ['starter'] } },
  });

  // 1. One real apply: the template every copy is made from.
  const template = await b.put(exposedApi(0));
  const applied = await startExecutor(['execute', 'apply', '--namespace', b.ns, '--name', template.name, '--spec-hash', template.hash], b.env(env), entry).done;
  if (applied.code !== 0) throw new Error(`the template's apply failed: ${applied.stdout}${applied.stderr}`);
  const templateObj = (await b.get(template.name))!;
  const templateId = b.apiId(template.name);
  const data = b.emu.service.data;
  const source = data.apis[key(templateId)]!;
  const fingerprint = parseMark(source.properties['apiRevisionDescription'] as string).fingerprint!;

  // 2. The copies, in the emulator's state, and their ExposedAPIs as an apply leaves them.
  const t0 = performance.now();
  const objects: Record<string, any>[] = [];
  for (let i = 1; i < N; i++) {
    const obj = exposedApi(i);
    const hash = specHash({ ...readExposedApi(obj).model, namespace: b.ns, name: obj.metadata.name });
    const apiId = b.apiId(obj.metadata.name);
    const copy = structuredClone(source);
    copy.name = apiId;
    const swap = (s: string) => s.split(templateId).join(apiId).split(`/team/api-0/`).join(`/team/api-${i}/`);
    copy.properties = { ...copy.properties, path: `team/api-${i}/metrics`, displayName: `api-${i}`, serviceUrl: `http://10.0.0.10/team/api-${i}/metrics`, apiRevisionDescription: renderMark({ cluster: 'default', namespace: b.ns, name: obj.metadata.name, uid: 'bench' }, fingerprint) };
    if (copy.policy) copy.policy = { ...copy.policy, raw: swap(copy.policy.raw), xml: swap(copy.policy.xml) };
    data.apis[key(apiId)] = copy;
    for (const list of Object.values(data.productApis)) if (list.includes(key(templateId))) list.push(key(apiId));
    objects.push({
      ...obj,
      metadata: { ...obj.metadata, annotations: { [SPEC_HASH_ANNOTATION]: hash }, finalizers: [FINALIZER] },
      status: { appliedSpecHash: hash, apim: { apiId, serviceName: b.emu.serviceName, resourceId: instanceIdOf(b.emu), target: '' }, conditions: templateObj['status']['conditions'] },
    });
  }
  for (let at = 0; at < objects.length; at += 200) {
    const r = await b.cp.kubectl(['create', '-f', '-'], { input: objects.slice(at, at + 200).map((o) => JSON.stringify(o)).join('\n') });
    if (r.code !== 0) throw new Error(`kubectl create: ${r.stderr}`);
  }
  const setupMs = performance.now() - t0;

  // 3. Two verify runs, each with ARM's read bucket full and every count from zero: the first also records Drifted
  // False on every ExposedAPI (a status write each: Kubernetes, not APIM); the second is the steady state.
  let throttled = 0;
  const take = b.emu.throttling.take.bind(b.emu.throttling);
  b.emu.throttling.take = (...args: Parameters<typeof take>) => {
    const d = take(...args);
    if (!d.allowed) throttled++;
    return d;
  };
  let failed = false;
  for (const run of ['first run', 'second run']) {
    b.emu.throttling.reset();
    b.emu.requests.reset();
    throttled = 0;
    const r = await startExecutor(['execute', 'verify'], b.env({ ...env, WATCH_NAMESPACES: b.ns, JOB_NAME: 'exposedapi-apim-verify-bench' }), entry).done;
    const finished = r.logs.find((l) => l['msg'] === 'verify run finished');
    const done = r.logs.find((l) => l['msg'] === 'done');
    if (r.code !== 0 || !finished) throw new Error(`the verify run failed (exit ${r.code}): ${r.stdout.slice(-3000)}${r.stderr.slice(-2000)}`);
    const counts = b.emu.state().requests;
    const sum = (re: RegExp) => Object.entries(counts.byPath).filter(([k]) => re.test(k)).reduce((n, [, c]) => n + c, 0);
    const armReads = sum(/^(GET|HEAD) \/subscriptions\//);
    const armWrites = sum(/^(PUT|PATCH|POST|DELETE) \/subscriptions\//);
    const policyReads = sum(/^GET .*\/policies\/policy$/);
    const floorS = Math.max(0, (armReads - 250) / 25);
    const runS = finished['ms'] / 1000;
    const usage = done?.['resourceUsage'] ?? {};
    console.log([
      `drift verification of ${N} unchanged APIs, ${run} (emulator, ARM read bucket 250 + 25/s enforced; setup ${(setupMs / 1000).toFixed(1)} s)`,
      `  ExposedAPIs listed ${finished['exposedApis']}, compared ${finished['compared']}, drifted ${finished['drifted']}, skipped ${finished['skipped']}, status writes ${finished['written']}`,
      `  APIM reads: ${armReads} (${(armReads / N).toFixed(3)} per API: ${policyReads} policy reads, ${armReads - policyReads} list pages); writes: ${armWrites}; 429 answers: ${throttled}`,
      `  elapsed: run ${runS.toFixed(1)} s (process ${(r.ms / 1000).toFixed(1)} s) beside the read bucket floor ${floorS.toFixed(1)} s`,
      `  peak RSS of the verify process: ${Math.round((usage['maxRSS'] ?? 0) / 1024)} MB; CPU ${(((usage['userCPUTime'] ?? 0) + (usage['systemCPUTime'] ?? 0)) / 1e6).toFixed(1)} s`,
    ].join('\n'));
    if (finished['drifted'] !== 0 || armWrites !== 0 || finished['compared'] !== N) failed = true;
  }
  if (failed) {
    console.error('FAILED: every API unchanged must compare equal, with zero writes');
    process.exitCode = 1;
  }
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
