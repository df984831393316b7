// `exposedapi-apim conformance` as a user runs it: a zero-setup run against an emulator it starts itself, the
// configuration errors of a run against Azure, and Ctrl-C: the run stops, still deletes what it created, and exits 1.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_DIR } from '../helpers/fixtures.ts';

// Each case starts a process with its own emulator: past tap's 30 s default on a loaded machine when run with node.
t.setTimeout(600_000);

const CLI = join(REPO_DIR, 'cli/main.ts');
// No Azure variables from the developer's shell may point a test run at a real service.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(APIM_|AZURE_|ARM_)/.test(k)));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'conformance', ...args], { encoding: 'utf8', env: ENV, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('--emulator --json: a run needing nothing but the checkout', async (tt) => {
  const r = cli('--emulator', '--only', 'api.not-found', '--only', 'etag.get-header', '--json');
  tt.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  tt.match(report.target, /^APIM emulator https:\/\/127\.0\.0\.1:\d+$/);
  tt.same(report.results.map((x: { id: string; verdict: string }) => `${x.id} ${x.verdict}`), ['api.not-found pass', 'etag.get-header pass']);
  tt.same(report.cleanup, { deleted: [`api ${report.prefix}base`], failed: [] });
});

t.test('against Azure without configuration: exit 2 naming every missing variable', async (tt) => {
  const r = cli();
  tt.equal(r.status, 2);
  for (const name of ['APIM_SUBSCRIPTION_ID', 'APIM_RESOURCE_GROUP', 'APIM_SERVICE_NAME']) tt.match(r.stderr, name);
  tt.match(r.stderr, /or use --emulator/);
});

t.test('usage errors: an unknown check, an unknown flag', async (tt) => {
  const unknown = cli('--emulator', '--only', 'policies');
  tt.equal(unknown.status, 2);
  tt.match(unknown.stderr, /--only policies: no such check or area; valid: import\.lro-accepted/);
  tt.equal(cli('--emulatr').status, 2);
  const list = cli('--list');
  tt.equal(list.status, 0);
  tt.match(list.stdout, /^import\.lro-accepted\n {2}A PUT with format\+value is asynchronous/);
});

t.test('Ctrl-C stops the run, deletes what it created and exits 1', async (tt) => {
  const child = spawn(process.execPath, [CLI, 'conformance', '--emulator', '--json'], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
    // Once the base API and a product exist.
    if (!interrupted && /links\.product-api: \w+/.test(stderr)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  tt.ok(interrupted, `the run reached links.product-api: ${stderr.slice(-500)}`);
  tt.equal(code, 1, stderr.slice(-500));
  const report = JSON.parse(stdout);
  tt.equal(report.outcome, 'interrupted');
  tt.same(report.cleanup.failed, []);
  tt.ok(report.cleanup.deleted.includes(`product ${report.prefix}product`), report.cleanup.deleted.join(', '));
  tt.match(stderr, /SIGINT: stopping after the current step and deleting what this run created/);
});
