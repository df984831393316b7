// The pod status the node agent reports: what the Job controller reads.
import t from 'tap';
import { desiredConditions, nextConditions, podStatusPatch, terminalPhase, terminatedState, type PodRecord } from '../../dev-cluster/node-agent/pod-status.ts';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T00:00:05Z');

t.test('exit codes and signals become terminated states like a container runtime reports them', async (t) => {
  t.same(terminatedState(0, undefined, t0, t1), { kind: 'terminated', exitCode: 0, reason: 'Completed', startedAt: t0, finishedAt: t1 });
  t.same(terminatedState(3, undefined, t0, t1), { kind: 'terminated', exitCode: 3, reason: 'Error', startedAt: t0, finishedAt: t1 });
  t.match(terminatedState(null, 15, t0, t1), { exitCode: 143, signal: 15, reason: 'Error' });
  t.match(terminatedState(null, 9, t0, t1), { exitCode: 137, signal: 9 });
});

t.test('phase and conditions of a running and of a finished pod', async (t) => {
  const running: PodRecord = {
    phase: 'Running', startTime: t0, initContainers: [],
    containers: [{ name: 'main', image: 'busybox', restartCount: 0, state: { kind: 'running', startedAt: t0 } }],
  };
  t.same(desiredConditions(running).map((c) => [c.type, c.status]), [['PodReadyToStartContainers', 'True'], ['Initialized', 'True'], ['ContainersReady', 'True'], ['Ready', 'True']]);
  const finished: PodRecord = { ...running, phase: 'Failed', containers: [{ ...running.containers[0]!, state: terminatedState(2, undefined, t0, t1) }] };
  t.equal(terminalPhase(finished.containers), 'Failed');
  t.equal(terminalPhase([{ ...running.containers[0]!, state: terminatedState(0, undefined, t0, t1) }]), 'Succeeded');
  const ready = desiredConditions(finished).find((c) => c.type === 'Ready');
  t.same(ready, { type: 'Ready', status: 'False', reason: 'PodCompleted' });

  const patch = podStatusPatch(finished, nextConditions([], desiredConditions(finished), t1), '127.0.0.1') as { status: Record<string, any> };
  t.equal(patch.status['phase'], 'Failed');
  t.same(patch.status['containerStatuses'][0].state, { terminated: { exitCode: 2, reason: 'Error', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:05Z' } });
  t.equal(patch.status['conditions'].find((c: { type: string }) => c.type === 'Ready').message, null, 'a stale message is cleared explicitly');
});

t.test('lastTransitionTime moves only when a condition changes status', async (t) => {
  const first = nextConditions([], [{ type: 'Ready', status: 'False' }], t0);
  const same = nextConditions(first, [{ type: 'Ready', status: 'False', reason: 'Other' }], t1);
  t.equal(same[0]!.lastTransitionTime, t0);
  const flipped = nextConditions(same, [{ type: 'Ready', status: 'True' }], t1);
  t.equal(flipped[0]!.lastTransitionTime, t1);
});
