// Builds the operator image without a container engine (docs/image.md): a distroless-style root filesystem
// (scripts/image/rootfs.ts) packed by umoci into an OCI image layout, and copied by skopeo into a docker-archive that
// `ctr images import` and `docker load` take. The image is a function of its inputs: every file has a fixed owner,
// mode and modification time (SOURCE_DATE_EPOCH, else the commit's time), umoci writes tar entries in name order with
// no other time in them, the config's times are the same fixed time, and the compile cache is written with a fixed
// V8 hash seed (scripts/image/image-config.ts). `--check-reproducible` builds a second time and compares digests.
//   node scripts/build-image.ts [--out DIR] [--dist DIR] [--source URL] [--force] [--check-reproducible]
// --out defaults to .image/, --dist to dist/ (built first when missing). Needs root (files owned by 65532 in the
// layer, and the image's Node run as 65532 in the tree) and: apt-get install -y umoci skopeo
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lutimesSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBundle } from './build.ts';
import { CMD, COMPILE_CACHE, ENTRYPOINT, ENV, IMAGE_NAME, RUN_AS_ID, SBOM_PATH, USER, WARM_COMPILE_CACHE, WORKDIR, type LABEL_KEYS } from './image/image-config.ts';
import { assembleRootfs, CA_CERTIFICATES, debianPackage, debianPackageOf, sharedLibraries, shippedBundleFiles, treeBytes, type DebianPackage } from './image/rootfs.ts';
import { imageSbom } from './image/sbom.ts';

const REPO = new URL('../', import.meta.url).pathname;

/** Where the project's source lives, for org.opencontainers.image.source (the registry path of manifests/base names it). */
export const DEFAULT_SOURCE = 'https://github.com/exposedapi-apim/exposedapi-apim';

/** The Debian packages the build runs (checked first, so a missing one is named with the command that installs it). */
export const BUILD_TOOLS = [
  { command: 'umoci', apt: 'umoci' },
  { command: 'skopeo', apt: 'skopeo' },
  { command: 'chroot', apt: 'coreutils' },
  { command: 'ldd', apt: 'libc-bin' },
  { command: 'dpkg-query', apt: 'dpkg' },
  { command: 'git', apt: 'git' },
  { command: 'npm', apt: 'npm' },
];

export interface ImageBuildOptions {
  /** Output folder: oci/ (the layout), <name>-<version>.docker.tar, sbom.cdx.json, image.json. */
  out: string;
  /** The bundle (scripts/build.ts output); built there when it has no entry point. */
  dist?: string;
  source?: string;
  /** Build even when out/ holds an image of the same inputs. */
  force?: boolean;
  /** The commit and time the labels name, instead of HEAD and its time (SOURCE_DATE_EPOCH when set). */
  revision?: string;
  epoch?: number;
  log?: (line: string) => void;
}

/** What a build made, as written to out/image.json. */
export interface ImageBuild {
  /** "exposedapi-apim:0.1.0": the docker-archive's reference and, by its tag, the OCI layout's. */
  reference: string;
  tag: string;
  layout: string;
  archive: string;
  sbom: string;
  manifestDigest: string;
  configDigest: string;
  /** The gzip-compressed layer (what a registry stores and a node pulls). */
  layerBytes: number;
  /** The files of the root filesystem. */
  unpackedBytes: number;
  archiveBytes: number;
  /** sha256 over the bundle's shipped files (path and contents). */
  bundleHash: string;
  /** sha256 over everything the image is made from; a build with the same key reuses the image. */
  inputKey: string;
  revision: string;
  created: string;
  compileCacheEntries: number;
  seconds: number;
  reused: boolean;
}

function run(command: string, args: string[], o: { cwd?: string } = {}): string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...o });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${r.status}\n${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Every missing tool at once, with the line that installs them; and root, which the layer's ownership needs. */
export function buildProblems(): string[] {
  const missing = BUILD_TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t.command}`]).status !== 0);
  const problems: string[] = [];
  if (missing.length) problems.push(`missing ${missing.map((t) => t.command).join(', ')}: apt-get update && apt-get install -y ${[...new Set(missing.map((t) => t.apt))].join(' ')}`);
  if (process.getuid?.() !== 0) problems.push('the image build runs as root: the layer records files owned by uid 65532, and the compile cache is written by the image\'s Node running as 65532');
  return problems;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const fileSha256 = (path: string): string => sha256(readFileSync(path));

/** sha256 over the bundle's shipped files: names and contents, in name order. */
export function bundleHash(dist: string): string {
  const h = createHash('sha256');
  for (const rel of shippedBundleFiles(dist)) h.update(`${rel}\0${fileSha256(join(dist, rel))}\n`);
  return h.digest('hex');
}

/** The Node binary npm ci installed for the pinned `node` devDependency, checked against the pin. */
function pinnedNode(): { path: string; version: string; license: string; npmPackage: string } {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const version = pkg.devDependencies['node'];
  const path = join(REPO, 'node_modules/node/bin/node');
  if (!version || !existsSync(path)) throw new Error(`no pinned Node at ${path}: run npm ci (package.json devDependencies.node)`);
  const actual = run(path, ['--version']).trim();
  if (actual !== `v${version}`) throw new Error(`${path} is ${actual}, package.json pins ${version}: run npm ci`);
  const npmPackage = `node-${process.platform}-${process.arch}`;
  const license = [join(REPO, 'node_modules/node/node_modules', npmPackage, 'LICENSE'), join(REPO, 'node_modules', npmPackage, 'LICENSE')].find(existsSync);
  if (!license) throw new Error(`no LICENSE of ${npmPackage} under node_modules: run npm ci`);
  return { path: realpathSync(path), version, license, npmPackage };
}

function gitFacts(o: { revision?: string; epoch?: number }): { revision: string; epoch: number } {
  const env = process.env['SOURCE_DATE_EPOCH'];
  let revision: string;
  try {
    revision = o.revision ?? run('git', ['rev-parse', 'HEAD'], { cwd: REPO }).trim();
  } catch (err) {
    throw new Error(`the image's revision label is the git commit: build from a git checkout (${(err as Error).message})`);
  }
  // The commit's time, not the build's: the image is then the same whenever it is built.
  const epoch = o.epoch ?? (env !== undefined ? Number(env) : Number(run('git', ['log', '-1', '--format=%ct', revision], { cwd: REPO }).trim()));
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got ${JSON.stringify(env)}`);
  return { revision, epoch };
}

/** Sets every entry's access and modification time to `epoch`, the tree's root included (umoci records "."). */
function fixTimes(root: string, epoch: number): void {
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      lutimesSync(full, epoch, epoch);
    }
  };
  walk(root);
  lutimesSync(root, epoch, epoch);
}

function readJson(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
}

export function blobPath(layout: string, digest: string): string {
  return join(layout, 'blobs', ...digest.split(':'));
}

/** The manifest and config of the layout's image tagged `tag`. */
export function readImage(layout: string, tag: string): { manifestDigest: string; manifest: Record<string, any>; config: Record<string, any> } {
  const index = readJson(join(layout, 'index.json'));
  const entry = (index['manifests'] as Record<string, any>[]).find((m) => m['annotations']?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`${layout} has no image tagged ${tag}`);
  const manifest = readJson(blobPath(layout, entry['digest'] as string));
  return { manifestDigest: entry['digest'] as string, manifest, config: readJson(blobPath(layout, manifest['config']['digest'] as string)) };
}

export async function buildImage(options: ImageBuildOptions): Promise<ImageBuild> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const problems = buildProblems();
  if (problems.length) throw new Error(`cannot build the image:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const out = resolve(options.out);
  const dist = resolve(options.dist ?? join(REPO, 'dist'));
  if (!existsSync(join(dist, 'exposedapi-apim.mjs')) || !existsSync(join(dist, 'warm-compile-cache.mjs'))) {
    log(`no bundle in ${dist}: building it (scripts/build.ts)`);
    await buildBundle(dist);
  }

  const pkg = readJson(join(REPO, 'package.json'));
  const version = pkg['version'] as string;
  const tag = version;
  const reference = `${IMAGE_NAME}:${tag}`;
  const { revision, epoch } = gitFacts(options);
  const created = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
  const source = options.source ?? ((pkg['repository'] as { url?: string } | undefined)?.url ?? DEFAULT_SOURCE);
  const node = pinnedNode();
  const nodeSha256 = fileSha256(node.path);
  const libraries = sharedLibraries(node.path);
  const packageNames = [...new Set([...libraries.map((l) => debianPackageOf(l.path)), 'ca-certificates'])].sort();
  const packages: DebianPackage[] = packageNames.map(debianPackage);
  const sbom = imageSbom({ repo: REPO, packageName: pkg['name'] as string, created, node: { version: node.version, sha256: nodeSha256, npmPackage: node.npmPackage }, packages });
  const labels: Record<(typeof LABEL_KEYS)[number], string> = {
    'org.opencontainers.image.title': IMAGE_NAME,
    'org.opencontainers.image.description': pkg['description'] as string,
    'org.opencontainers.image.source': source,
    'org.opencontainers.image.version': version,
    'org.opencontainers.image.revision': revision,
    'org.opencontainers.image.created': created,
    'org.opencontainers.image.licenses': pkg['license'] as string,
  };

  const bundle = bundleHash(dist);
  const builderFiles = [join(REPO, 'scripts/build-image.ts'), ...readdirSync(join(REPO, 'scripts/image')).filter((f) => f.endsWith('.ts')).sort().map((f) => join(REPO, 'scripts/image', f))];
  const inputKey = sha256(JSON.stringify({
    builder: builderFiles.map(fileSha256),
    bundle,
    node: nodeSha256,
    libraries: libraries.map((l) => [l.path, fileSha256(l.source)]),
    ca: fileSha256(CA_CERTIFICATES),
    packages,
    sbom: sha256(sbom),
    labels,
  }));

  const layout = join(out, 'oci');
  const archive = join(out, `${IMAGE_NAME}-${tag}.docker.tar`);
  const sbomFile = join(out, 'sbom.cdx.json');
  const recordFile = join(out, 'image.json');
  if (!options.force && existsSync(recordFile) && existsSync(archive)) {
    const previous = readJson(recordFile) as ImageBuild;
    if (previous.inputKey === inputKey && existsSync(blobPath(layout, previous.manifestDigest))) {
      log(`${reference}: up to date in ${out} (same inputs)`);
      return { ...previous, seconds: (performance.now() - started) / 1000, reused: true };
    }
  }

  mkdirSync(out, { recursive: true });
  const work = join(out, '.work');
  for (const p of [work, layout, archive, sbomFile, recordFile]) rmSync(p, { recursive: true, force: true });
  const runtimeBundle = join(work, 'bundle');
  const rootfs = join(runtimeBundle, 'rootfs');
  try {
    run('umoci', ['init', '--layout', layout]);
    run('umoci', ['new', '--image', `${layout}:${tag}`]);
    run('umoci', ['unpack', '--image', `${layout}:${tag}`, runtimeBundle]);
    log('assembling the root filesystem');
    assembleRootfs(rootfs, { dist, node: node.path, nodeLicense: node.license, libraries, packages, sbom });

    // The image's own Node, in the image's tree, as the image's user: the cache's folder name carries the Node version
    // and the uid, and its entries the script URLs under /app/dist (chroot: nothing of the build machine is seen).
    log('writing the compile cache as uid 65532');
    // `env -i` gives the image's Node the image's environment and nothing else: a parent's NODE_OPTIONS (a test
    // runner's --import of a module of the checkout, say) would name files the tree does not have.
    const chroot = run('sh', ['-c', 'command -v chroot']).trim();
    const warm = spawnSync('env', ['-i', ...ENV, chroot, `--userspec=${USER}`, rootfs, ...WARM_COMPILE_CACHE], { encoding: 'utf8', timeout: 180_000 });
    if (warm.status !== 0) throw new Error(`the compile cache warm-up failed in the image's tree (exit ${warm.status}): ${warm.stderr || warm.error?.message}`);
    const cacheDirs = readdirSync(join(rootfs, COMPILE_CACHE)).filter((d) => d.startsWith(`v${node.version}-`) && d.endsWith(`-${RUN_AS_ID}`));
    if (cacheDirs.length !== 1) throw new Error(`expected one compile cache folder for Node ${node.version} and uid ${RUN_AS_ID} in ${COMPILE_CACHE}, found ${JSON.stringify(readdirSync(join(rootfs, COMPILE_CACHE)))}`);
    const compileCacheEntries = readdirSync(join(rootfs, COMPILE_CACHE, cacheDirs[0]!)).length;
    if (compileCacheEntries === 0) throw new Error(`the compile cache ${COMPILE_CACHE}/${cacheDirs[0]} is empty`);

    fixTimes(rootfs, epoch);
    const unpackedBytes = treeBytes(rootfs);
    log('packing the layer (umoci repack)');
    run('umoci', ['repack', '--image', `${layout}:${tag}`, '--history.created', created, '--history.created_by', 'scripts/build-image.ts', '--history.comment', `bundle sha256:${bundle}`, runtimeBundle]);
    const config = [
      '--no-history',
      '--created', created,
      '--architecture', process.arch === 'x64' ? 'amd64' : process.arch,
      '--os', 'linux',
      '--config.user', USER,
      '--config.workingdir', WORKDIR,
      ...ENTRYPOINT.flatMap((a) => ['--config.entrypoint', a]),
      ...CMD.flatMap((a) => ['--config.cmd', a]),
      ...ENV.flatMap((e) => ['--config.env', e]),
      ...Object.entries(labels).flatMap(([k, v]) => ['--config.label', `${k}=${v}`]),
    ];
    run('umoci', ['config', '--image', `${layout}:${tag}`, ...config]);
    run('umoci', ['gc', '--layout', layout]);
    log('writing the docker-archive (skopeo copy)');
    run('skopeo', ['copy', '--quiet', `oci:${layout}:${tag}`, `docker-archive:${archive}:${reference}`]);
    writeFileSync(sbomFile, sbom);

    const image = readImage(layout, tag);
    const layers = image.manifest['layers'] as { size: number }[];
    const record: ImageBuild = {
      reference,
      tag,
      layout,
      archive,
      sbom: sbomFile,
      manifestDigest: image.manifestDigest,
      configDigest: image.manifest['config']['digest'] as string,
      layerBytes: layers.reduce((n, l) => n + l.size, 0),
      unpackedBytes,
      archiveBytes: statSync(archive).size,
      bundleHash: bundle,
      inputKey,
      revision,
      created,
      compileCacheEntries,
      seconds: (performance.now() - started) / 1000,
      reused: false,
    };
    writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

export function describe(b: ImageBuild): string {
  return [
    `${b.reference} ${b.reused ? 'reused' : 'built'} in ${b.seconds.toFixed(1)} s`,
    `  OCI layout   ${b.layout} (manifest ${b.manifestDigest})`,
    `  archive      ${b.archive} (${mb(b.archiveBytes)}; ctr images import / docker load)`,
    `  SBOM         ${b.sbom} (in the image: ${SBOM_PATH})`,
    `  size         layer ${mb(b.layerBytes)} compressed, ${mb(b.unpackedBytes)} unpacked`,
    `  labels       revision ${b.revision}, created ${b.created}`,
    `  compile cache ${b.compileCacheEntries} entries, written as uid ${RUN_AS_ID}`,
  ].join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(REPO, '.image') },
      dist: { type: 'string' },
      source: { type: 'string' },
      force: { type: 'boolean', default: false },
      'check-reproducible': { type: 'boolean', default: false },
    },
  });
  const log = (line: string): void => void process.stderr.write(`build-image: ${line}\n`);
  try {
    const first = await buildImage({ out: values.out!, force: values.force!, log, ...(values.dist ? { dist: values.dist } : {}), ...(values.source ? { source: values.source } : {}) });
    process.stdout.write(`${describe(first)}\n`);
    if (values['check-reproducible']) {
      // A second build from the same inputs in another folder, never reused: its digests must be the first's.
      const other = mkdtempSync(join(dirname(resolve(values.out!)), `${basename(resolve(values.out!))}-again-`));
      try {
        const second = await buildImage({ out: other, force: true, log, dist: values.dist ?? join(REPO, 'dist'), ...(values.source ? { source: values.source } : {}) });
        const same = second.manifestDigest === first.manifestDigest && fileSha256(second.archive) === fileSha256(first.archive);
        process.stdout.write(`reproducible: ${same ? 'yes' : 'NO'} (second build ${second.seconds.toFixed(1)} s: manifest ${second.manifestDigest}${same ? ', docker-archive identical' : `, first ${first.manifestDigest}`})\n`);
        if (!same) process.exitCode = 1;
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    }
  } catch (err) {
    process.stderr.write(`build-image: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
