// Argo CD's health check (manifests/gitops/argocd-health.lua under Lua 5.1), Flux's kstatus (cli-utils) and
// `kubectl wait --for=condition=Ready` on ExposedAPIs of the running system: the sandbox's webhook, dispatcher, Jobs
// and executor against the APIM emulator, each object read back from the apiserver at the moment that matters —
// just admitted, its Job running (an import the emulator holds), published, failed for good (APIM refuses the path),
// and just updated. Every version of every object the watch delivered is checked for an observedGeneration.
import t from 'tap';
import { ClientSecretCredential } from '@azure/identity';
import { ApiManagementClient, type ApiManagementClientOptionalParams } from '@azure/arm-apimanagement';
import { readFileSync } from 'node:fs';
import { SPEC_HASH_ANNOTATION } from '../../core/exposedapi-model.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { CM_PATCH, HEALTH_KEY, HEALTH_LUA } from './argocd-cm-patch.ts';
import { condition, gitopsSandbox, manifest, NS, serverSideApply, type Obj } from './gitops-sandbox.ts';

const started = Date.now();
const g = await gitopsSandbox(t);
const emulator = g.sandbox.emulator;
const hashOf = (obj: Obj | undefined): string => obj?.['metadata']?.['annotations']?.[SPEC_HASH_ANNOTATION] ?? '';
const wait = (name: string, forWhat: string, timeout: string) => g.kubectl(['wait', `--for=${forWhat}`, `exposedapi/${name}`, '-n', NS, `--timeout=${timeout}`], undefined, 300_000);
/** Applied as Argo CD applies with ServerSideApply=true, as Flux's kustomize-controller applies (both server-side). */
const apply = (objs: Obj[]) => serverSideApply(g, objs, 'argocd-controller');

t.test('just admitted: already in progress for both tools, in the very object the apply stored', async (t) => {
  // The import of "slow" is held 12 s by the emulator (its first request naming the API), so its Job is seen running.
  emulator.faults.add({ pathPattern: `${NS}-slow`, delayMs: 12_000, times: 1 });
  // An API made by hand holds gitops-taken, the base path /gitops-taken/v4's version set needs (docs/version-sets.md):
  // APIM refuses a second API on it unless both are versions of one set (a permanent failure).
  const client = new ApiManagementClient(
    new ClientSecretCredential(emulator.tenantId, emulator.clientId, emulator.clientSecret, { authorityHost: emulator.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: emulator.caPem } } as ConstructorParameters<typeof ClientSecretCredential>[3]),
    emulator.subscriptionId,
    { endpoint: emulator.url, tlsOptions: { ca: emulator.caPem } } as ApiManagementClientOptionalParams,
  );
  await client.api.beginCreateOrUpdateAndWait(emulator.resourceGroup, emulator.serviceName, 'made-by-hand', { path: 'gitops-taken', displayName: 'made by hand', protocols: ['https'] }, { updateIntervalInMs: 50 });

  const r = await apply([manifest('ready'), manifest('slow'), manifest('broken', { path: '/gitops-taken/v4' })]);
  t.equal(r.code, 0, r.stderr);
  for (const name of ['ready', 'slow', 'broken']) {
    // The first version the watch saw: what the create stored, before the dispatcher or any Job wrote anything.
    const first = await waitFor(`the first version of ${name}`, () => g.versions.get(name)?.[0]);
    t.match(condition(first, 'Ready'), { status: 'Unknown', reason: 'Pending', specHash: hashOf(first) }, `${name}: stored pending`);
    const v = await g.verdicts(first);
    t.equal(v.argo.status, 'Progressing', `${name}: Argo CD ${v.argo.status} (${v.argo.message})`);
    t.equal(v.kstatus.status, 'InProgress', `${name}: kstatus ${v.kstatus.status} (${v.kstatus.message}); without the admission reset it would be Current`);
  }
});

t.test('its Job runs: Progressing, InProgress, and kubectl wait keeps waiting', async (t) => {
  const running = await waitFor('slow\'s Job to be running (Progressing True)', async () => {
    const obj = await g.get('slow');
    return condition(obj, 'Progressing')?.['status'] === 'True' && condition(obj, 'Ready')?.['status'] !== 'True' ? obj : undefined;
  }, { timeoutMs: 90_000, intervalMs: 200 });
  const v = await g.verdicts(running);
  t.equal(v.argo.status, 'Progressing', `Argo CD: ${v.argo.message}`);
  t.match(v.argo.message, /\(Job sandbox-slow-[0-9a-f]+ running\)$/, 'Argo CD names the running Job');
  t.equal(v.kstatus.status, 'InProgress', `kstatus: ${v.kstatus.message}`);
  const early = await wait('slow', 'condition=Ready', '2s');
  t.not(early.code, 0, 'kubectl wait --for=condition=Ready does not return while the Job runs');
  t.match(early.stderr, /timed out/);
});

t.test('published: Healthy, Current, and kubectl wait --for=condition=Ready returns', async (t) => {
  for (const name of ['ready', 'slow']) {
    const r = await wait(name, 'condition=Ready', '180s');
    t.equal(r.code, 0, `kubectl wait ${name}: ${r.stdout}${r.stderr}`);
    t.match(r.stdout, `exposedapi.oda.tmforum.org/${name} condition met`);
    const obj = (await g.get(name))!;
    t.equal(obj['status']['appliedSpecHash'], hashOf(obj), `${name}: the current change is applied`);
    const v = await g.verdicts(obj);
    t.equal(v.argo.status, 'Healthy', `${name}: Argo CD ${v.argo.message}`);
    t.equal(v.argo.message, `published at ${obj['status']['apiStatus']['url']}`);
    t.equal(v.kstatus.status, 'Current', `${name}: kstatus ${v.kstatus.message}`);
  }
});

t.test('failed for good (APIM refuses the path): Degraded, Failed; kubectl wait --for=condition=Stalled returns', async (t) => {
  const r = await wait('broken', 'condition=Stalled', '180s');
  t.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  const obj = (await g.get('broken'))!;
  t.match(condition(obj, 'Ready'), { status: 'False', reason: 'JobFailed', specHash: hashOf(obj) });
  t.match(condition(obj, 'Stalled'), { status: 'True', reason: 'JobFailed', specHash: hashOf(obj) });
  const v = await g.verdicts(obj);
  t.equal(v.argo.status, 'Degraded', `Argo CD: ${v.argo.message}`);
  t.match(v.argo.message, /^JobFailed: .*same Path/i, 'APIM\'s own words reach Argo CD');
  t.equal(v.kstatus.status, 'Failed', `kstatus: ${v.kstatus.message}`);
  t.match(v.kstatus.message, /same Path/i, '… and Flux');
});

t.test('an update: in progress at once (not the previous change\'s Ready), then Healthy for the new hash', async (t) => {
  const before = (await g.get('ready'))!;
  const r = await apply([manifest('ready', { rateLimit: { enabled: true, identifier: 'IP', limit: '10', interval: 'pm' } })]);
  t.equal(r.code, 0, r.stderr);
  const after = (await g.get('ready'))!;
  t.not(hashOf(after), hashOf(before), 'a new change');
  const v = await g.verdicts(after);
  // Read right after the apply returned: the dispatcher may have written since, never a Ready True for the new hash.
  t.equal(v.argo.status, 'Progressing', `Argo CD: ${v.argo.message}`);
  t.equal(v.kstatus.status, 'InProgress', `kstatus: ${v.kstatus.message}`);
  const firstOfChange = g.versions.get('ready')!.find((o) => hashOf(o) === hashOf(after))!;
  t.match(condition(firstOfChange, 'Ready'), { status: 'Unknown', reason: 'Pending', specHash: hashOf(after) }, 'the write that admitted the change already said Pending');
  const done = await wait('ready', 'condition=Ready', '180s');
  t.equal(done.code, 0, `${done.stdout}${done.stderr}`);
  const final = (await g.get('ready'))!;
  t.equal(condition(final, 'Ready')?.['specHash'], hashOf(after), 'kubectl wait returned for the new change, not the old one');
  t.equal((await g.verdicts(final)).kstatus.status, 'Current');
});

t.test('no status write ever carried an observedGeneration; metadata.generation moved with the status writes', async (t) => {
  let seen = 0;
  for (const [name, list] of g.versions) {
    for (const obj of list) {
      seen++;
      t.notOk(JSON.stringify(obj['status'] ?? {}).includes('observedGeneration'), `${name} @${obj['metadata']['resourceVersion']}: no observedGeneration`);
    }
    const generations = list.map((o) => Number(o['metadata']['generation']));
    t.ok(generations.at(-1)! > generations[0]!, `${name}: generation ${generations[0]} → ${generations.at(-1)} over ${list.length} versions (status writes bump it: no status subresource)`);
  }
  t.ok(seen >= 12, `${seen} versions seen`);
});

t.test('the argocd-cm patch merges into a real argocd-cm', async (t) => {
  t.equal((await g.kubectl(['create', 'namespace', 'argocd'])).code, 0);
  const created = await g.kubectl(['create', 'configmap', 'argocd-cm', '-n', 'argocd', '--from-literal=url=https://argocd.example.com']);
  t.equal(created.code, 0, created.stderr);
  const patched = await g.kubectl(['patch', 'configmap', 'argocd-cm', '-n', 'argocd', '--type', 'merge', '--patch-file', CM_PATCH]);
  t.equal(patched.code, 0, patched.stderr);
  const cm = JSON.parse((await g.kubectl(['get', 'configmap', 'argocd-cm', '-n', 'argocd', '-o', 'json'])).stdout) as Obj;
  t.equal(cm['data'][HEALTH_KEY], readFileSync(HEALTH_LUA, 'utf8'), 'the script, as Argo CD will read it');
  t.equal(cm['data']['url'], 'https://argocd.example.com', 'the rest of argocd-cm is kept');
});

t.teardown(() => {
  t.comment(`argocd-health: ${((Date.now() - started) / 1000).toFixed(1)} s with the sandbox's start`);
});
