// executor/apim-client.ts singleFlight: concurrent token requests share one request to Entra ID; a token close to
// expiry is fetched again; a failure is not cached.
import t from 'tap';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { singleFlight } from '../../executor/apim-client.ts';

function counting(expiresInMs: number, fail = false): TokenCredential & { calls: number } {
  const c = {
    calls: 0,
    async getToken(): Promise<AccessToken | null> {
      c.calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('AADSTS7000215: Invalid client secret provided.');
      return { token: `t${c.calls}`, expiresOnTimestamp: Date.now() + expiresInMs };
    },
  };
  return c;
}

t.test('concurrent callers share one request', async (t) => {
  const inner = counting(3600_000);
  const cred = singleFlight(inner);
  const [a, b] = await Promise.all([cred.getToken('https://management.azure.com/.default'), cred.getToken(['https://management.azure.com/.default'])]);
  t.equal(inner.calls, 1);
  t.equal(a?.token, b?.token);
  t.equal((await cred.getToken('https://management.azure.com/.default'))?.token, 't1', 'a later caller gets the cached token');
  await cred.getToken('https://other/.default');
  t.equal(inner.calls, 2, 'another scope is another token');
});

t.test('a token about to expire is fetched again; failures are not kept', async (t) => {
  const short = counting(60_000);
  const cred = singleFlight(short);
  await cred.getToken('s');
  t.equal((await cred.getToken('s'))?.token, 't2');
  const failing = counting(0, true);
  const f = singleFlight(failing);
  await t.rejects(f.getToken('s'), /AADSTS7000215/);
  await t.rejects(f.getToken('s'));
  t.equal(failing.calls, 2, 'each attempt asks again');
});
