// The executor's record of a move (executor/target-move.ts): an apply on a new instance lists where the API was, a
// release runs only for an instance status lists and never for the one the API is published in now, and status —
// tenant-writable — is read defensively.
import t from 'tap';
import { formerTargetsAfter, recordedFormerTargets, releaseGate } from '../../executor/target-move.ts';

const id = (s: string) => `/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg/providers/Microsoft.ApiManagement/service/${s}`;
const hereB = { target: 'b', resourceId: id('b'), serviceName: 'b' };

t.test('after an apply: where it was is recorded, where it is now never', async (t) => {
  const cases: [string, Record<string, unknown> | undefined, { target: string; resourceId: string }[]][] = [
    ['first publish', undefined, []],
    ['re-apply in place', { apiId: 'x', serviceName: 'b', target: 'b', resourceId: id('b') }, []],
    ['moved from A', { apiId: 'x', serviceName: 'a', target: 'a', resourceId: id('a') }, [{ target: 'a', resourceId: id('a') }]],
    ['published before targets existed (no resourceId)', { apiId: 'x', serviceName: 'operator' }, [{ target: '', resourceId: '' }]],
    ['A still pending, now moved again from C', { apiId: 'x', serviceName: 'c', target: 'c', resourceId: id('c'), formerTargets: [{ target: 'a', resourceId: id('a') }] }, [{ target: 'a', resourceId: id('a') }, { target: 'c', resourceId: id('c') }]],
    ['moved back to B while B was pending', { apiId: 'x', serviceName: 'a', target: 'a', resourceId: id('a'), formerTargets: [{ target: 'b', resourceId: id('b') }] }, [{ target: 'a', resourceId: id('a') }]],
    ['ARM ids compare case-insensitively', { apiId: 'x', serviceName: 'b', target: 'old-name', resourceId: id('b').toUpperCase() }, []],
  ];
  for (const [what, apim, want] of cases) t.same(formerTargetsAfter(apim as never, hereB), want, what);
});

t.test('status is read defensively', async (t) => {
  const forged = { apiId: 'x', serviceName: 'b', formerTargets: [1, { target: 'a' }, { target: 'a', resourceId: id('a') }, { target: 'a', resourceId: 'dup' }, ...Array.from({ length: 20 }, (_, i) => ({ target: `t${i}`, resourceId: '' }))] };
  const read = recordedFormerTargets(forged as never);
  t.equal(read.length, 8, 'at most 8');
  t.same(read[0], { target: 'a', resourceId: id('a') }, 'malformed entries skipped, the first of a name kept');
  t.same(recordedFormerTargets({ apiId: 'x', serviceName: 'b', formerTargets: 'a' } as never), []);
});

t.test('a release runs only where status says the API was, never where it is', async (t) => {
  const apim = { apiId: 'x', serviceName: 'b', target: 'b', resourceId: id('b'), formerTargets: [{ target: 'a', resourceId: id('a') }] };
  t.same(releaseGate(apim, { target: 'a', resourceId: id('a') }), { proceed: true });
  t.match(releaseGate(apim, { target: 'c', resourceId: id('c') }), { proceed: false, message: /does not list ApimTarget "c": nothing to release/ });
  t.match(releaseGate({ ...apim, formerTargets: [{ target: 'b', resourceId: id('b') }] }, { target: 'b', resourceId: id('b') }), { proceed: false, message: /is published in .* now/ }, 'a forged entry naming the live instance');
  t.match(releaseGate({ ...apim, target: 'a2', resourceId: id('a'), formerTargets: [{ target: 'a', resourceId: id('a') }] }, { target: 'a', resourceId: id('a') }), { proceed: false }, 'the same instance under another target name');
  t.same(releaseGate({ ...apim, formerTargets: [{ target: '', resourceId: '' }] }, { target: '', resourceId: id('operator') }), { proceed: true }, 'the operator\'s own instance');
});
