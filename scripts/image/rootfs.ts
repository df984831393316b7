// The image's root filesystem, distroless-style: the bundle, the pinned Node binary, the shared libraries it is linked
// against with their loader (from this Debian machine, where `ldd` finds them), CA certificates, and the account
// files that name uid/gid 65532. No shell, no package manager, nothing else: what the operator cannot run cannot be
// used against it. Every file is copied with a fixed mode and owner (root, except what the image's user writes), so
// the tree depends only on its inputs, never on the checkout's umask or owner.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { BUNDLE_DIR, bundleFileShips, COMPILE_CACHE, NODE_PATH, RUN_AS_ID, SBOM_PATH } from './image-config.ts';

/** A file of the build machine that goes into the image at `path`. */
export interface HostFile {
  path: string;
  source: string;
  mode: number;
}

/** A Debian package that files of the image come from (for the SBOM and its copyright file). */
export interface DebianPackage {
  name: string;
  version: string;
  architecture: string;
}

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * The libraries `ldd` lists for `binary` and the loader, each at the path the loader looks for it (so symlinks such
 * as libstdc++.so.6 → libstdc++.so.6.0.30 become one file with the linked name's contents).
 */
export function sharedLibraries(binary: string): HostFile[] {
  const out: HostFile[] = [];
  for (const line of run('ldd', [binary]).split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)", "/lib64/ld-linux-x86-64.so.2 (0x…)"; the vDSO has no file.
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (!m) {
      if (/not found/.test(line)) throw new Error(`${binary} needs a library this machine lacks: ${line.trim()}`);
      continue;
    }
    out.push({ path: m[1]!, source: realpathSync(m[1]!), mode: 0o755 });
  }
  if (!out.some((f) => /\/ld-linux[^/]*\.so/.test(f.path))) throw new Error(`ldd ${binary} named no loader: is it dynamically linked for this machine?`);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The Debian package that owns a file (merged /usr: dpkg may know it under /usr/lib or /lib). */
export function debianPackageOf(path: string): string {
  const candidates = [path, realpathSync(path), path.replace(/^\/lib/, '/usr/lib'), realpathSync(path).replace(/^\/usr\/lib/, '/lib')];
  for (const p of new Set(candidates)) {
    const r = spawnSync('dpkg-query', ['-S', p], { encoding: 'utf8' });
    if (r.status === 0) return r.stdout.split(':')[0]!.trim();
  }
  throw new Error(`no Debian package owns ${path} (dpkg-query -S): the image's libraries must come from Debian packages so the SBOM can name them`);
}

export function debianPackage(name: string): DebianPackage {
  const [version, architecture] = run('dpkg-query', ['-W', '-f', '${Version}\t${Architecture}', name]).split('\t');
  return { name, version: version!, architecture: architecture! };
}

export const CA_CERTIFICATES = '/etc/ssl/certs/ca-certificates.crt';

/** Every file of the bundle that ships, relative to it, sorted. */
export function shippedBundleFiles(dist: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      const rel = relative(dist, full);
      if (!bundleFileShips(rel)) continue;
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push(rel);
      else throw new Error(`${full}: the bundle holds only files and folders`);
    }
  };
  walk(dist);
  return out.sort();
}

export interface RootfsInputs {
  dist: string;
  node: string;
  nodeLicense: string;
  libraries: HostFile[];
  packages: DebianPackage[];
  sbom: string;
}

/** Writes the tree into `rootfs` (an empty folder). */
export function assembleRootfs(rootfs: string, inputs: RootfsInputs): void {
  const dir = (path: string, mode = 0o755, owner = 0): void => {
    const full = join(rootfs, path);
    mkdirSync(full, { recursive: true });
    chmodSync(full, mode);
    chownSync(full, owner, owner);
  };
  const parents = (path: string): void => {
    const parts = dirname(path).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) if (!existsSync(join(rootfs, ...parts.slice(0, i)))) dir(`/${parts.slice(0, i).join('/')}`);
  };
  const file = (path: string, content: string | { source: string }, mode = 0o644): void => {
    parents(path);
    const full = join(rootfs, path);
    if (typeof content === 'string') writeFileSync(full, content);
    else copyFileSync(content.source, full);
    chmodSync(full, mode);
    chownSync(full, 0, 0);
  };

  // The bundle, and a folder for the compile cache that the image's user fills at build time (scripts/build-image.ts).
  for (const rel of shippedBundleFiles(inputs.dist)) file(`${BUNDLE_DIR}/${rel}`, { source: join(inputs.dist, rel) });
  dir(COMPILE_CACHE, 0o755, RUN_AS_ID);
  file(SBOM_PATH, inputs.sbom);

  file(NODE_PATH, { source: inputs.node }, 0o755);
  file('/usr/local/share/doc/node/LICENSE', { source: inputs.nodeLicense });
  for (const lib of inputs.libraries) file(lib.path, { source: lib.source }, lib.mode);
  file(CA_CERTIFICATES, { source: CA_CERTIFICATES });
  // Shipping Debian's binaries means shipping their licences.
  for (const p of inputs.packages) {
    const copyright = `/usr/share/doc/${p.name}/copyright`;
    if (existsSync(copyright)) file(copyright, { source: copyright });
  }

  // Names for the ids (os.userInfo(), and tools that print user names), and the name service order glibc would
  // otherwise guess: files first, so "localhost" resolves from /etc/hosts (which Kubernetes mounts).
  file('/etc/passwd', `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${RUN_AS_ID}:${RUN_AS_ID}:nonroot:/home/nonroot:/sbin/nologin\n`);
  file('/etc/group', `root:x:0:\nnonroot:x:${RUN_AS_ID}:\n`);
  file('/etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
  dir('/home/nonroot', 0o700, RUN_AS_ID);
  // Mount point of the emptyDir the manifests put on /tmp; sticky and world-writable when nothing is mounted there.
  dir('/tmp', 0o1777);
  dir('/root', 0o700);
}

/** Sum of the sizes of the regular files under `root`. */
export function treeBytes(root: string): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) n += statSync(full).size;
    }
  };
  walk(root);
  return n;
}
