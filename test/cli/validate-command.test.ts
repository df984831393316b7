// `exposedapi-apim validate` as a CI pipeline runs it: a child process, files on disk, exit codes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { exposedApi, REFERENCE_DIR, REPO_DIR, swagger2 } from '../helpers/fixtures.ts';

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(REPO_DIR, 'cli/main.ts'), ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('validate', async (t) => {
  const dir = t.testdir({});
  const good = exposedApi();
  const inline = exposedApi({ metadata: { name: 'inline-api' }, apiVersion: 'oda.tmforum.org/v1beta3', spec: { path: '/inline/v1', specification: YAML.stringify(swagger2()) } });
  const other = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: {} };
  writeFileSync(join(dir, 'apis.yaml'), [good, inline, other].map((o) => YAML.stringify(o)).join('---\n'));
  mkdirSync(join(dir, 'bad'));
  const bad = exposedApi({ metadata: { name: 'bad-api' }, spec: { path: 'no-slash', port: 0, rateLimit: { enabled: true, limit: 'many' } } });
  const samePath = exposedApi({ metadata: { name: 'second-claim' } });
  writeFileSync(join(dir, 'bad', 'bad.json'), JSON.stringify(bad));
  writeFileSync(join(dir, 'bad', 'dup.yaml'), YAML.stringify(samePath));

  t.test('valid files exit 0; other kinds are skipped', async (t) => {
    const r = cli(['validate', join(dir, 'apis.yaml')]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, '2 ExposedAPIs checked, 0 invalid, 1 other object skipped');
  });

  t.test('invalid files exit 1 with every error in kubectl form', async (t) => {
    const r = cli(['validate', join(dir, 'bad', 'bad.json')]);
    t.equal(r.code, 1);
    t.match(r.stderr, 'The ExposedAPI "bad-api" is invalid: \n* spec.port: Invalid value: 0: must be a port number between 1 and 65535\n* spec.path: Invalid value: "no-slash": must start with "/"');
    t.match(r.stderr, '* spec.rateLimit.limit: Invalid value: "many": must be a positive whole number');
  });

  t.test('a folder is walked; paths must be unique among the given files', async (t) => {
    const r = cli(['validate', dir]);
    t.equal(r.code, 1);
    t.match(r.stderr, 'The ExposedAPI "second-claim" is invalid: \n* spec.path: Forbidden: path "/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4" is already claimed by ExposedAPI components/ctk-productcatalogmanagement-productcatalogmanagement-v4');
    t.match(r.stdout, '4 ExposedAPIs checked, 2 invalid, 1 other object skipped');
  });

  t.test('claims among the given files: nested paths across namespaces and apiIds (derived too); the earlier file keeps a claim', async (t) => {
    const claims = t.testdir({});
    const objs = [
      exposedApi({ metadata: { name: 'payments', namespace: 'team-a' }, spec: { path: '/payments/v1' } }),
      exposedApi({ metadata: { name: 'admin', namespace: 'team-a' }, spec: { path: '/payments/v1/admin' } }),
      exposedApi({ metadata: { name: 'transfer', namespace: 'team-b' }, spec: { path: '/payments/v1/transfer' } }),
      exposedApi({ metadata: { name: 'v10', namespace: 'team-b' }, spec: { path: '/payments/v10' } }),
      exposedApi({ metadata: { name: 'c', namespace: 'a-b' }, spec: { path: '/c/v1' } }),
      exposedApi({ metadata: { name: 'b-c', namespace: 'a' }, spec: { path: '/bc/v1' } }),
      exposedApi({ metadata: { name: 'named', namespace: 'team-c' }, spec: { path: '/named/v1', apim: { apiId: 'TEAM-A-payments' } } }),
    ];
    writeFileSync(join(claims, 'apis.yaml'), objs.map((o) => YAML.stringify(o)).join('---\n'));
    const r = cli(['validate', claims]);
    t.equal(r.code, 1);
    t.match(r.stderr, 'The ExposedAPI "transfer" is invalid: \n* spec.path: Forbidden: path "/payments/v1/transfer" is inside path "/payments/v1", claimed by ExposedAPI team-a/payments of another namespace');
    t.match(r.stderr, 'The ExposedAPI "b-c" is invalid: \n* spec.apim.apiId: Forbidden: the apiId derived from namespace and name, "a-b-c", is already claimed by ExposedAPI a-b/c');
    t.match(r.stderr, 'The ExposedAPI "named" is invalid: \n* spec.apim.apiId: Forbidden: apiId "TEAM-A-payments" is already claimed by ExposedAPI team-a/payments');
    t.match(r.stdout, '7 ExposedAPIs checked, 3 invalid', 'the same namespace may nest; /payments/v10 is not under /payments/v1');
  });

  t.test('--json gives a machine-readable report', async (t) => {
    const r = cli(['validate', '--json', join(dir, 'bad', 'bad.json')]);
    t.equal(r.code, 1);
    const report = JSON.parse(r.stdout);
    t.equal(report.valid, false);
    t.ok(report.objects[0].errors.some((e: { field: string }) => e.field === 'spec.port'));
  });

  t.test('usage errors exit 2', async (t) => {
    t.equal(cli(['validate']).code, 2);
    t.equal(cli(['validate', join(dir, 'missing.yaml')]).code, 2);
    t.equal(cli(['validate', '--bogus', dir]).code, 2);
    t.equal(cli(['no-such-command']).code, 2);
  });

  t.test('unparseable YAML is reported and fails', async (t) => {
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: [unclosed\n');
    const r = cli(['validate', join(dir, 'broken.yaml')]);
    t.equal(r.code, 1);
    t.match(r.stderr, 'is not valid YAML');
  });

  t.test('the ODA reference example passes', async (t) => {
    const r = cli(['validate', join(REFERENCE_DIR, 'oda/ExposedAPI-example.yaml')]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, 'Warning:', 'its quota identifier is a shared counter: warned, not rejected');
  });
});
