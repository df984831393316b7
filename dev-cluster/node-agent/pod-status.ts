// The pod status a kubelet would report, computed from the node agent's record of its processes. Pure, so the shape
// the Job controller reads (phase, conditions, containerStatuses[].state.terminated.exitCode) is easy to inspect.
export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: Date }
  | { kind: 'terminated'; exitCode: number; signal?: number; reason: string; message?: string; startedAt?: Date; finishedAt: Date };

export interface ContainerRecord {
  name: string;
  image: string;
  state: ContainerState;
  lastTerminated?: Extract<ContainerState, { kind: 'terminated' }>;
  restartCount: number;
  containerID?: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface PodRecord {
  phase: PodPhase;
  reason?: string;
  message?: string;
  startTime: Date;
  initContainers: ContainerRecord[];
  containers: ContainerRecord[];
}

export interface ConditionRecord {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastTransitionTime: Date;
}

/** RFC 3339 without fractions, as Kubernetes writes metav1.Time. */
export function kubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Exit code and reason of a finished process, as a container runtime reports them (signal n → 128 + n). */
export function terminatedState(code: number | null, signal: number | undefined, startedAt: Date | undefined, finishedAt: Date,
  message?: string): Extract<ContainerState, { kind: 'terminated' }> {
  const exitCode = code ?? 128 + (signal ?? 0);
  return {
    kind: 'terminated', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error',
    ...(signal !== undefined ? { signal } : {}), ...(message ? { message } : {}),
    ...(startedAt ? { startedAt } : {}), finishedAt,
  };
}

function stateJson(s: ContainerState): Record<string, unknown> {
  switch (s.kind) {
    case 'waiting': return { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } };
    case 'running': return { running: { startedAt: kubeTime(s.startedAt) } };
    case 'terminated': return {
      terminated: {
        exitCode: s.exitCode, reason: s.reason,
        ...(s.signal !== undefined ? { signal: s.signal } : {}), ...(s.message ? { message: s.message } : {}),
        ...(s.startedAt ? { startedAt: kubeTime(s.startedAt) } : {}), finishedAt: kubeTime(s.finishedAt),
      },
    };
  }
}

function containerStatusJson(c: ContainerRecord): Record<string, unknown> {
  return {
    name: c.name,
    image: c.image,
    imageID: c.image,
    ...(c.containerID ? { containerID: c.containerID } : {}),
    ready: c.state.kind === 'running',
    started: c.state.kind === 'running',
    restartCount: c.restartCount,
    state: stateJson(c.state),
    lastState: c.lastTerminated ? stateJson(c.lastTerminated) : {},
  };
}

/** The condition types kubelet owns and their current values; the caller keeps lastTransitionTime stable. */
export function desiredConditions(pod: PodRecord): Omit<ConditionRecord, 'lastTransitionTime'>[] {
  const terminal = pod.phase === 'Succeeded' || pod.phase === 'Failed';
  const initDone = pod.initContainers.every((c) => c.state.kind === 'terminated' && c.state.exitCode === 0);
  const unready = pod.containers.filter((c) => c.state.kind !== 'running').map((c) => c.name);
  const ready = !terminal && initDone && unready.length === 0;
  const notReady = terminal
    ? { reason: 'PodCompleted' }
    : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  return [
    { type: 'PodReadyToStartContainers', status: terminal ? 'False' : 'True' },
    initDone || terminal
      ? { type: 'Initialized', status: 'True', ...(terminal && !initDone ? { reason: 'PodCompleted' } : {}) }
      : { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${pod.initContainers.filter((c) => c.state.kind !== 'terminated').map((c) => c.name).join(' ')}]` },
    ready ? { type: 'ContainersReady', status: 'True' } : { type: 'ContainersReady', status: 'False', ...notReady },
    ready ? { type: 'Ready', status: 'True' } : { type: 'Ready', status: 'False', ...notReady },
  ];
}

/**
 * A strategic-merge patch for pods/status: conditions merge by type, so conditions other controllers own (PodScheduled,
 * DisruptionTarget) survive; containerStatuses are replaced as a whole.
 */
export function podStatusPatch(pod: PodRecord, conditions: ConditionRecord[], ip: string): Record<string, unknown> {
  return {
    status: {
      phase: pod.phase,
      reason: pod.reason ?? null,
      message: pod.message ?? null,
      hostIP: ip,
      hostIPs: [{ ip }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: kubeTime(pod.startTime),
      // Strategic merge keeps fields the patch leaves out, so an absent reason or message is cleared with null.
      conditions: conditions.map((c) => ({
        type: c.type, status: c.status, lastProbeTime: null, lastTransitionTime: kubeTime(c.lastTransitionTime),
        reason: c.reason ?? null, message: c.message ?? null,
      })),
      ...(pod.initContainers.length > 0 ? { initContainerStatuses: pod.initContainers.map(containerStatusJson) } : {}),
      containerStatuses: pod.containers.map(containerStatusJson),
    },
  };
}

/** Tracks conditions so lastTransitionTime changes only when a condition's status does. */
export function nextConditions(previous: ConditionRecord[], desired: Omit<ConditionRecord, 'lastTransitionTime'>[], now: Date): ConditionRecord[] {
  return desired.map((d) => {
    const prev = previous.find((p) => p.type === d.type);
    return { ...d, lastTransitionTime: prev && prev.status === d.status ? prev.lastTransitionTime : now };
  });
}

/** Phase once every container is terminated and none will restart (kubelet's getPhase for terminal pods). */
export function terminalPhase(containers: ContainerRecord[]): 'Succeeded' | 'Failed' {
  return containers.every((c) => c.state.kind === 'terminated' && c.state.exitCode === 0) ? 'Succeeded' : 'Failed';
}
