// core/outbound-url.ts and core/rules/outbound-targets.ts: which URLs a tenant may make APIM call (backend.url and the
// JWT discovery URL), at admission from the URL alone and at apply time from every address its host resolves to.
import t from 'tap';
import { renderFieldError } from '../../core/field-error.ts';
import { readExecutorConfig } from '../../core/executor-config.ts';
import { readWebhookConfig } from '../../core/operator-config.ts';
import { systemHostResolver } from '../../core/host-resolver.ts';
import { checkOutboundUrl, checkResolvedAddresses, classifyHost, STRICT_OUTBOUND_POLICY, type OutboundPolicy } from '../../core/outbound-url.ts';
import type { HostResolution } from '../../core/rules/outbound-targets.ts';
import { defaultValidationContext, validateExposedApi, type ValidationContext } from '../../core/validate-exposedapi.ts';
import { exposedApi } from '../helpers/fixtures.ts';

const STRICT = STRICT_OUTBOUND_POLICY;
const PRIVATE_OK: OutboundPolicy = { allowHttp: false, allowPrivate: true };
const HTTP_OK: OutboundPolicy = { allowHttp: true, allowPrivate: false };

const F = 'spec.apim.backend.url';
/** undefined = allowed; otherwise a pattern the one rendered error must match. */
const cases: { url: string; policy?: OutboundPolicy; httpsOnly?: boolean; refused?: RegExp; note: string }[] = [
  { url: 'https://api.example.com/v1', note: 'a public name' },
  { url: 'https://8.8.8.8/v1', note: 'a public address' },
  { url: 'https://xn--bcher-kva.example/x', note: 'an internationalised name' },
  { url: 'http://api.example.com/v1', refused: /must be an https URL: use https \(plain http needs OUTBOUND_ALLOW_HTTP=true/, note: 'plain http' },
  { url: 'http://api.example.com/v1', policy: HTTP_OK, note: 'plain http, allowed' },
  { url: 'http://login.example.com/.well-known/openid-configuration', policy: HTTP_OK, httpsOnly: true, refused: /must be an https URL: use https$/, note: 'the JWT discovery URL is https only' },
  { url: 'ftp://api.example.com/', policy: HTTP_OK, refused: /must be an https URL/, note: 'another scheme' },
  { url: 'https://user:secret@api.example.com/', refused: /user name or password/, note: 'credentials in the URL' },
  { url: 'https://127.0.0.1:8443/', refused: /127\.0\.0\.1 is a loopback or private address; use a public host name, or .*OUTBOUND_ALLOW_PRIVATE=true/, note: 'loopback' },
  { url: 'https://127.0.0.1:8443/', policy: PRIVATE_OK, note: 'loopback, allowed' },
  { url: 'https://0x7f.1/', refused: /127\.0\.0\.1 is a loopback/, note: 'loopback in shorthand' },
  { url: 'https://10.1.2.3/', refused: /private/, note: 'RFC 1918' },
  { url: 'https://100.64.0.1/', refused: /private/, note: 'CGNAT' },
  { url: 'https://[fd12::1]/', refused: /private/, note: 'unique-local' },
  { url: 'https://[::ffff:7f00:1]/', refused: /private/, note: 'IPv4-mapped loopback' },
  { url: 'https://[64:ff9b::a00:1]/', refused: /private/, note: 'NAT64 to RFC 1918' },
  { url: 'https://169.254.169.254/latest/meta-data', policy: PRIVATE_OK, refused: /link-local, metadata.*never/, note: 'metadata, even with private allowed' },
  { url: 'https://[fd00:ec2::254]/', policy: PRIVATE_OK, refused: /never/, note: 'AWS IMDS over IPv6, even with private allowed' },
  { url: 'https://[64:ff9b::a9fe:a9fe]/', policy: PRIVATE_OK, refused: /never/, note: 'NAT64 metadata, even with private allowed' },
  { url: 'https://[fe80::1]/', policy: PRIVATE_OK, refused: /never/, note: 'link-local IPv6' },
  { url: 'https://metadata.google.internal/computeMetadata/v1/', policy: PRIVATE_OK, refused: /names a cloud metadata service/, note: 'a metadata name, even with private allowed' },
  { url: 'https://localhost:8443/', refused: /single-label/, note: 'localhost' },
  { url: 'https://api.localhost/', refused: /cluster-internal or local name/, note: '*.localhost' },
  { url: 'https://backend/', refused: /single-label/, note: 'a single label' },
  { url: 'https://kubernetes.default/', refused: /cluster-internal/, note: 'the apiserver' },
  { url: 'https://kubernetes.default.svc/', refused: /cluster-internal/, note: 'the apiserver, .svc' },
  { url: 'https://billing.team-b.svc.cluster.local/', refused: /cluster-internal/, note: 'a Service FQDN' },
  { url: 'https://billing.team-b/', refused: /public top-level domain/, note: '<service>.<namespace>' },
  { url: 'https://db.corp.internal/', refused: /cluster-internal or local name/, note: '*.internal' },
  { url: 'https://printer.local./', refused: /cluster-internal/, note: 'trailing dot' },
  { url: 'https://billing.team-b.svc.cluster.local/', policy: PRIVATE_OK, note: 'internal names, allowed' },
  { url: 'https://api.example.com/', policy: { ...STRICT, allowedHosts: ['.example.com'] }, note: 'in the host allowlist' },
  { url: 'https://evil.example.net/', policy: { ...STRICT, allowedHosts: ['.example.com', 'api.partner.io'] }, refused: /host evil\.example\.net is not among the hosts allowed here \(\.example\.com, api\.partner\.io\)/, note: 'outside the host allowlist' },
  { url: 'https://10.0.0.1/', policy: { ...STRICT, allowedHosts: ['10.0.0.1'] }, refused: /private/, note: 'the allowlist never opens a private address' },
  { url: 'not a url', note: 'unparseable: left to the field rule' },
];

t.test('checkOutboundUrl', async (t) => {
  for (const c of cases) {
    const errors = checkOutboundUrl(F, c.url, c.policy, { httpsOnly: c.httpsOnly });
    if (!c.refused) t.same(errors, [], `${c.note}: ${c.url} allowed`);
    else {
      t.equal(errors.length, 1, `${c.note}: one error`);
      const text = errors[0] ? renderFieldError(errors[0]) : '';
      t.match(text, c.refused, `${c.note}: ${text}`);
      t.ok(text.startsWith(`${F}: `), `${c.note}: names the field`);
      if (errors[0]?.reason === 'Forbidden') t.ok(text.includes(c.url), `${c.note}: names the value`);
    }
  }
  t.equal(classifyHost('API.Example.COM').kind, 'public');
});

t.test('checkResolvedAddresses: every address must pass', async (t) => {
  const url = 'https://api.example.com/x';
  t.same(checkResolvedAddresses(F, url, ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']), []);
  t.match(renderFieldError(checkResolvedAddresses(F, url, ['93.184.215.14', '10.0.0.5'])[0]!), /api\.example\.com resolves to 10\.0\.0\.5, a loopback or private address.*OUTBOUND_ALLOW_PRIVATE/);
  t.same(checkResolvedAddresses(F, url, ['10.0.0.5'], PRIVATE_OK), []);
  t.match(renderFieldError(checkResolvedAddresses(F, url, ['169.254.169.254'], PRIVATE_OK)[0]!), /resolves to 169\.254\.169\.254, a link-local, metadata/);
  t.match(renderFieldError(checkResolvedAddresses(F, url, ['::ffff:a9fe:a9fe'], PRIVATE_OK)[0]!), /never/);
});

t.test('validation: backend.url and openidConfigUrl, with and without a resolver', async (t) => {
  const backend = (url: string) => exposedApi({ spec: { apim: { backend: { mode: 'url', url } } } });
  const oidc = (url: string) => exposedApi({ spec: { apim: { authentication: { jwt: { openidConfigUrl: url } } } } });
  const errorsOf = async (obj: unknown, ctx: Partial<ValidationContext> = {}) => (await validateExposedApi(obj, defaultValidationContext(ctx))).errors.map(renderFieldError);

  t.match(await errorsOf(backend('https://169.254.169.254/')), [/^spec\.apim\.backend\.url: Forbidden: .*never/]);
  t.match(await errorsOf(backend('http://10.0.0.5/api')), [/^spec\.apim\.backend\.url: Invalid value: .*OUTBOUND_ALLOW_HTTP=true/], 'one error: http first');
  t.same(await errorsOf(backend('http://10.0.0.5/api'), { outbound: { allowHttp: true, allowPrivate: true } }), [], 'both allowed by configuration');
  t.match(await errorsOf(oidc('https://127.0.0.1:9443/tenant/v2.0/.well-known/openid-configuration')), [/^spec\.apim\.authentication\.jwt\.openidConfigUrl: Forbidden: .*loopback/]);
  t.same(await errorsOf(oidc('https://127.0.0.1:9443/tenant/v2.0/.well-known/openid-configuration'), { outbound: PRIVATE_OK }), []);
  t.match(await errorsOf(oidc('http://idp.example.com/.well-known/openid-configuration'), { outbound: HTTP_OK }), [/https/], 'http is never allowed for the discovery URL');
  t.equal((await errorsOf(oidc('http://idp.example.com/.well-known/openid-configuration'))).length, 1, 'the field rule and the outbound rule report one error together');
  t.equal((await errorsOf(backend('https://10.0.0.5/{{secret}}'))).length, 1, 'the outbound rule and the safety rule report one error together');
  t.same(await errorsOf(backend('https://10.0.0.5/api'), {}).then((e) => e.length), 1, 'an absent policy is the strict one');

  const answers: Record<string, HostResolution> = {
    'api.example.com': { kind: 'resolved', addresses: ['93.184.215.14'] },
    'rebind.example.com': { kind: 'resolved', addresses: ['93.184.215.14', '10.0.0.7'] },
    'imds.example.com': { kind: 'resolved', addresses: ['169.254.169.254'] },
    'gone.example.com': { kind: 'unresolved', reason: 'ENOTFOUND' },
    'billing.team-b.svc.cluster.local': { kind: 'resolved', addresses: ['::ffff:a9fe:a9fe'] },
  };
  const asked: string[] = [];
  const resolveHost = async (h: string): Promise<HostResolution> => {
    asked.push(h);
    return answers[h] ?? { kind: 'unresolved', reason: 'unknown' };
  };
  const run = (obj: unknown, outbound?: OutboundPolicy) => validateExposedApi(obj, defaultValidationContext({ resolveHost, ...(outbound ? { outbound } : {}) }));

  t.same((await run(backend('https://api.example.com/x'))).errors, [], 'a public answer');
  t.match((await run(backend('https://rebind.example.com/x'))).errors.map(renderFieldError), [/^spec\.apim\.backend\.url: Forbidden: https:\/\/rebind\.example\.com\/x: rebind\.example\.com resolves to 10\.0\.0\.7/]);
  t.match((await run(oidc('https://imds.example.com/.well-known/openid-configuration'), PRIVATE_OK)).errors.map(renderFieldError), [/^spec\.apim\.authentication\.jwt\.openidConfigUrl: Forbidden: .*169\.254\.169\.254/], 'metadata behind a name, private allowed');
  t.match((await run(backend('https://billing.team-b.svc.cluster.local/'), PRIVATE_OK)).errors.map(renderFieldError), [/never/], 'an allowed internal name is still resolved and checked');
  const gone = await run(backend('https://gone.example.com/x'));
  t.same(gone.errors, [], 'an unresolvable name is not refused');
  t.match(gone.warnings, [/^spec\.apim\.backend\.url: gone\.example\.com could not be resolved from the cluster \(ENOTFOUND\).*APIM resolves it itself/]);
  asked.length = 0;
  await run(backend('https://8.8.8.8/x'));
  await run(backend('https://10.0.0.1/x'));
  t.same(asked, [], 'address literals and URLs refused already are not resolved');
});

t.test('OUTBOUND_ALLOW_HTTP and OUTBOUND_ALLOW_PRIVATE: strict by default, in both processes', async (t) => {
  const executorEnv = { APIM_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000', APIM_RESOURCE_GROUP: 'rg', APIM_SERVICE_NAME: 'svc' };
  const w = readWebhookConfig({});
  const e = readExecutorConfig(executorEnv);
  t.same(w.ok && w.config.outbound, { allowHttp: false, allowPrivate: false });
  t.same(e.ok && e.config.outbound, { allowHttp: false, allowPrivate: false });
  const on = { OUTBOUND_ALLOW_HTTP: 'true', OUTBOUND_ALLOW_PRIVATE: 'true' };
  const w2 = readWebhookConfig(on);
  const e2 = readExecutorConfig({ ...executorEnv, ...on });
  t.same(w2.ok && w2.config.outbound, { allowHttp: true, allowPrivate: true });
  t.same(e2.ok && e2.config.outbound, { allowHttp: true, allowPrivate: true });
  const bad = readWebhookConfig({ OUTBOUND_ALLOW_PRIVATE: 'sometimes' });
  t.match(!bad.ok && bad.errors, [/^OUTBOUND_ALLOW_PRIVATE="sometimes" is invalid: must be true or false \(default false\)/]);
});

t.test('the system resolver: every address, or why there are none', async (t) => {
  const resolve = systemHostResolver(2000);
  const local = await resolve('localhost');
  t.ok(local.kind === 'resolved' && local.addresses.every((a) => a === '127.0.0.1' || a === '::1'), `localhost: ${JSON.stringify(local)}`);
  const missing = await resolve('no-such-host.invalid');
  t.equal(missing.kind, 'unresolved', '.invalid never resolves (RFC 6761)');
});
