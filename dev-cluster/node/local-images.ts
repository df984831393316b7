// Images for the real node without a registry or a container engine: each is a root filesystem packed by umoci into an
// OCI layout, copied by skopeo into a docker-archive, and imported into the node's containerd with `ctr images import`.
// Two are built here and cached in ~/.cache/exposedapi-apim/images/ (keyed by their inputs, so a cached archive is
// always the one its inputs make):
//   - pause: the pod sandbox's process, dev-cluster/node/pause.c built `gcc -static` (no libraries in the image);
//   - busybox: Debian's busybox-static (one static binary, applets as symlinks), for tests and debugging pods.
// The operator image comes from scripts/build-image.ts and is imported the same way.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, copyFileSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PAUSE_IMAGE = 'localhost/exposedapi-apim/pause:1';
export const BUSYBOX_IMAGE_NAME = 'localhost/exposedapi-apim/busybox';
const PAUSE_SOURCE = new URL('./pause.c', import.meta.url).pathname;

export interface LocalImage {
  /** What pods name in `image:` (with imagePullPolicy Never or IfNotPresent). */
  reference: string;
  /** docker-archive for `ctr images import`. */
  archive: string;
}

export function imageCacheDir(): string {
  return join(process.env['EXPOSEDAPI_APIM_CACHE'] ?? join(homedir(), '.cache', 'exposedapi-apim'), 'images');
}

function run(command: string, args: string[], cwd?: string): string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...(cwd ? { cwd } : {}), timeout: 300_000 });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${r.status}\n${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

interface ImageSpec {
  reference: string;
  /** Fills the unpacked root filesystem. */
  populate: (rootfs: string) => void;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
}

/** Builds `spec` into `archive` unless it is there already; written under another name first, so a reader never sees half. */
function buildArchive(archive: string, spec: ImageSpec): void {
  if (existsSync(archive)) return;
  const dir = imageCacheDir();
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(dir, '.build-'));
  try {
    const layout = join(work, 'oci');
    const bundle = join(work, 'bundle');
    run('umoci', ['init', '--layout', layout]);
    run('umoci', ['new', '--image', `${layout}:1`]);
    run('umoci', ['unpack', '--image', `${layout}:1`, bundle]);
    spec.populate(join(bundle, 'rootfs'));
    run('umoci', ['repack', '--image', `${layout}:1`, bundle]);
    run('umoci', ['config', '--image', `${layout}:1`, '--os', 'linux', '--architecture', process.arch === 'x64' ? 'amd64' : process.arch,
      ...(spec.user ? ['--config.user', spec.user] : []),
      ...(spec.entrypoint ?? []).flatMap((a) => ['--config.entrypoint', a]),
      ...(spec.cmd ?? []).flatMap((a) => ['--config.cmd', a])]);
    const tmp = join(work, 'image.tar');
    run('skopeo', ['copy', '--quiet', `oci:${layout}:1`, `docker-archive:${tmp}:${spec.reference}`]);
    renameSync(tmp, archive);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function pauseImage(): LocalImage {
  const source = readFileSync(PAUSE_SOURCE);
  const gcc = run('gcc', ['--version']).split('\n')[0]!;
  const archive = join(imageCacheDir(), `pause-${sha(Buffer.concat([source, Buffer.from(gcc)]))}.tar`);
  buildArchive(archive, {
    reference: PAUSE_IMAGE,
    populate: (rootfs) => {
      const r = spawnSync('gcc', ['-static', '-O2', '-s', '-o', join(rootfs, 'pause'), PAUSE_SOURCE], { encoding: 'utf8' });
      if (r.status !== 0) {
        throw new Error(`gcc -static could not build the pause binary (${r.stderr.trim() || r.error?.message}); ` +
          'a static libc is needed: apt-get install -y gcc libc6-dev');
      }
    },
    entrypoint: ['/pause'],
    // The nobody user of the upstream pause image: the sandbox process needs no privilege.
    user: '65535:65535',
  });
  return { reference: PAUSE_IMAGE, archive };
}

/**
 * Debian's busybox-static, fetched with `apt-get download` and unpacked with dpkg-deb (nothing is installed on the
 * machine). Its version names the image, so an updated package makes a new one.
 */
export function busyboxImage(): LocalImage {
  const version = run('apt-cache', ['policy', 'busybox-static']).match(/Candidate:\s*(\S+)/)?.[1];
  if (!version || version === '(none)') throw new Error('apt knows no busybox-static package; run apt-get update (Debian main has it)');
  const tag = version.replace(/^\d+:/, '').replace(/[^A-Za-z0-9_.-]/g, '_');
  const reference = `${BUSYBOX_IMAGE_NAME}:${tag}`;
  const archive = join(imageCacheDir(), `busybox-${tag}.tar`);
  buildArchive(archive, {
    reference,
    populate: (rootfs) => {
      const deb = mkdtempSync(join(imageCacheDir(), '.deb-'));
      try {
        run('apt-get', ['download', '-q', `busybox-static=${version}`], deb);
        const file = readdirSync(deb).find((f) => f.endsWith('.deb'));
        if (!file) throw new Error(`apt-get download busybox-static=${version} left no .deb in ${deb}`);
        run('dpkg-deb', ['-x', join(deb, file), join(deb, 'x')]);
        mkdirSync(join(rootfs, 'bin'), { recursive: true });
        copyFileSync(join(deb, 'x', 'bin', 'busybox'), join(rootfs, 'bin', 'busybox'));
        chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
      } finally {
        rmSync(deb, { recursive: true, force: true });
      }
      const applets = run(join(rootfs, 'bin', 'busybox'), ['--list']).split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
      for (const a of applets) symlinkSync('busybox', join(rootfs, 'bin', a));
      for (const d of ['tmp', 'etc', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true });
      chmodSync(join(rootfs, 'tmp'), 0o1777);
    },
    cmd: ['sh'],
  });
  return { reference, archive };
}

/** Imports the archive into containerd's k8s.io namespace (where the CRI plugin, and so kubelet, looks for images). */
export function importImage(ctr: string, address: string, image: LocalImage): void {
  run(ctr, ['--address', address, '--namespace', 'k8s.io', 'images', 'import', image.archive]);
}

/** Whether containerd already holds the reference (a warm node directory keeps its images). */
export function hasImage(ctr: string, address: string, reference: string): boolean {
  const out = run(ctr, ['--address', address, '--namespace', 'k8s.io', 'images', 'list', '--quiet']);
  return out.split('\n').some((l) => l.trim() === reference);
}

/**
 * Removes the images whose reference starts with `prefix` except `keep`, and the `sha256:<image id>` references the
 * CRI plugin keeps for every image it has seen: while one of those points at an old image, containerd keeps its
 * layers (145 MB per operator build). An ID reference is removed when no named image points at the same manifest.
 */
export function pruneImages(ctr: string, address: string, prefix: string, keep: string): string[] {
  const base = ['--address', address, '--namespace', 'k8s.io', 'images'];
  const list = (): { ref: string; digest: string }[] => run(ctr, [...base, 'list']).split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 3).map((f) => ({ ref: f[0]!, digest: f[2]! }));
  const stale = list().map((i) => i.ref).filter((r) => r.startsWith(prefix) && r !== keep);
  if (stale.length) run(ctr, [...base, 'remove', ...stale]);
  const images = list();
  const named = new Set(images.filter((i) => !i.ref.startsWith('sha256:')).map((i) => i.digest));
  const orphans = images.filter((i) => i.ref.startsWith('sha256:') && !named.has(i.digest)).map((i) => i.ref);
  if (orphans.length) run(ctr, [...base, 'remove', ...orphans]);
  return [...stale, ...orphans];
}
