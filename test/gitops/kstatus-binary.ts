// The kstatus verdict program (test/gitops/kstatus/: sigs.k8s.io/cli-utils' kstatus from the Go module proxy), built
// once and cached like the control plane's binaries: $EXPOSEDAPI_APIM_CACHE/bin/kstatus-<hash>/kstatus (default
// ~/.cache/exposedapi-apim), where <hash> is taken over go.mod, go.sum and main.go, so a version bump rebuilds it.
// `node test/gitops/kstatus-binary.ts` builds it ahead of the tests (CI) and prints its path. Cold: about a minute
// on 2 cores (module downloads and compile); cached: nothing.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KSTATUS_SOURCE = fileURLToPath(new URL('./kstatus/', import.meta.url));

export function kstatusBinaryPath(): string {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(KSTATUS_SOURCE, f)));
  const cache = process.env['EXPOSEDAPI_APIM_CACHE'] ?? join(homedir(), '.cache/exposedapi-apim');
  return join(cache, 'bin', `kstatus-${hash.digest('hex').slice(0, 16)}`, 'kstatus');
}

/** The cached binary, built first when missing (at most `timeoutMs`). */
export async function kstatusBinary(timeoutMs = 15 * 60_000): Promise<string> {
  const out = kstatusBinaryPath();
  if (existsSync(out)) return out;
  mkdirSync(join(out, '..'), { recursive: true });
  // Built under a name of its own and renamed into place: concurrent test files never run a half-written binary.
  const partial = `${out}.${process.pid}.partial`;
  await new Promise<void>((resolve, reject) => {
    execFile('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', partial, '.'], {
      cwd: KSTATUS_SOURCE,
      timeout: timeoutMs,
      // -mod=readonly: go.sum is the lock; never a toolchain download (GOTOOLCHAIN=local), as scripts/build-control-plane.sh.
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly', CGO_ENABLED: '0' },
    }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      rmSync(partial, { force: true });
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new Error(missing ? 'go is not installed: the kstatus check builds sigs.k8s.io/cli-utils from the Go module proxy (Go >= 1.26)' : `building ${KSTATUS_SOURCE}: ${stderr || err.message}`));
    });
  });
  renameSync(partial, out);
  return out;
}

export interface KstatusVerdict {
  namespace: string;
  name: string;
  /** InProgress, Failed, Current, Terminating, NotFound or Unknown (cli-utils' status.Status). */
  status: string;
  message: string;
  conditions: { type: string; status: string; reason: string; message: string }[] | null;
}

/** kstatus's verdict for each object, in order. */
export function kstatus(binary: string, objects: readonly unknown[]): Promise<KstatusVerdict[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`kstatus exited with ${code}: ${stderr.trim()}`));
      resolve(stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as KstatusVerdict));
    });
    child.stdin.end(JSON.stringify(objects));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await kstatusBinary()}\n`);
}
