// A run's own address (dev-cluster/run-address.ts): created in a namespace the run makes, reachable by a local server,
// different for two runs at once, gone at release, and a killed run's leftovers removed by the next claim. Root only
// (CI runs as root); the claims live in a folder of this test's own, so concurrent sandboxes are not disturbed.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimRunAddress, cleanDeadRuns, RunAddressError } from '../../dev-cluster/run-address.ts';
import { REPO_DIR } from '../helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'run-address-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const namespaces = (): string[] => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
const hostAddresses = (): string[] => Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address));
const claimFile = (subnet: string): string => join(dir, `${subnet.split('/')[0]}.json`);

t.test('an address of its own: in 10.254.0.0/16, on a link of its own, reached by a server bound to it', async (t) => {
  const before = hostAddresses();
  const a = claimRunAddress({ dir });
  t.teardown(() => a.release());
  t.match(a.address, /^10\.254\.\d+\.\d+$/);
  t.notOk(before.includes(a.address), 'not an address the machine had');
  t.ok(namespaces().includes(a.record.netns), 'its namespace exists');
  t.ok(networkInterfaces()[a.record.link]?.some((x) => x.address === a.address), `the host end ${a.record.link} carries it`);
  t.ok(existsSync(claimFile(a.record.subnet)), 'the claim is recorded');

  const server = http.createServer((_req, res) => res.end('here'));
  await new Promise<void>((r) => server.listen(0, a.address, r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const res = await fetch(`http://${a.address}:${(server.address() as AddressInfo).port}/`, { signal: AbortSignal.timeout(10_000) });
  t.equal(await res.text(), 'here', 'a local client reaches the server on the run address');
});

t.test('two at once get different /30s', async (t) => {
  const a = claimRunAddress({ dir });
  const b = claimRunAddress({ dir });
  t.teardown(() => {
    a.release();
    b.release();
  });
  t.not(a.record.subnet, b.record.subnet);
  t.not(a.record.netns, b.record.netns);
  t.ok(existsSync(claimFile(a.record.subnet)) && existsSync(claimFile(b.record.subnet)), 'both claims recorded');
});

t.test('removed at release: namespace, link, address and claim', async (t) => {
  const a = claimRunAddress({ dir });
  a.release();
  t.notOk(namespaces().includes(a.record.netns), 'namespace gone');
  t.notOk(a.record.link in networkInterfaces(), 'link gone');
  t.notOk(hostAddresses().includes(a.address), 'address gone');
  t.notOk(existsSync(claimFile(a.record.subnet)), 'claim gone');
  t.doesNotThrow(() => a.release(), 'a second release is harmless');
});

t.test('a killed run leaves leftovers; the next claim removes them, and leaves a live run alone', async (t) => {
  const live = claimRunAddress({ dir });
  t.teardown(() => live.release());
  const script = `import { claimRunAddress } from ${JSON.stringify(join(REPO_DIR, 'dev-cluster/run-address.ts'))};
const a = claimRunAddress({ dir: ${JSON.stringify(dir)} });
process.stdout.write(JSON.stringify(a.record) + '\\n');
setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the child claimed nothing in 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0]!);
      }
    });
  });
  const dead = JSON.parse(line) as { netns: string; link: string; subnet: string; address: string; pid: number };
  // SIGKILL: no exit handler runs, as when a run is killed.
  process.kill(child.pid!, 'SIGKILL');
  await exited;
  t.ok(namespaces().includes(dead.netns) && existsSync(claimFile(dead.subnet)), 'the killed run\'s namespace and claim are left');

  const next = claimRunAddress({ dir });
  t.teardown(() => next.release());
  t.notOk(namespaces().includes(dead.netns), 'its namespace is removed');
  t.notOk(dead.link in networkInterfaces(), 'its link is removed');
  t.notOk(existsSync(claimFile(dead.subnet)), 'its claim is removed');
  t.ok(namespaces().includes(live.record.netns) && existsSync(claimFile(live.record.subnet)), 'the live run keeps its own');
  t.same(cleanDeadRuns({ dir }), [], 'nothing left to clean');
});

t.test('without iproute2: an error naming the fix, nothing created', async (t) => {
  const before = readdirSync(dir);
  t.throws(() => claimRunAddress({ dir, ip: '/nonexistent/ip' }), new RunAddressError('a run address needs iproute2\'s `/nonexistent/ip`, which is not installed: apt-get install -y iproute2'));
  t.same(readdirSync(dir), before, 'no claim made');
});
