// bench:e2e's closing table: the figures of each node side by side, and with two nodes the ratio real / process per
// row. Pure: the rows come from the figures e2e-run.ts returns.
import type { E2eFigures } from './e2e-run.ts';
import { JOB_STEPS, type JobStep } from './job-timeline.ts';
import { percentile } from './load.ts';

interface Row {
  label: string;
  /** One per node, in the columns' order; undefined when that node has no such figure (a phase skipped). */
  values: (number | undefined)[];
  unit: 'ms' | 's' | 'MB' | '';
  target?: string;
}

const pct = (xs: number[] | undefined, p: number): number | undefined => (xs && xs.length ? percentile([...xs].sort((a, b) => a - b), p) : undefined);

export function comparisonRows(figures: E2eFigures[]): Row[] {
  const row = (label: string, unit: Row['unit'], value: (f: E2eFigures) => number | undefined, target?: string): Row => ({
    label, unit, values: figures.map(value), ...(target ? { target } : {}),
  });
  const step = (key: JobStep, where: 'singleSteps' | 'burst', p: number) => (f: E2eFigures) =>
    pct(where === 'burst' ? f.burst?.steps[key] : f.singleSteps[key], p);
  const stepLabel = (key: JobStep) => JOB_STEPS.find((s) => s.key === key)!.label;
  const rows: Row[] = [
    row('machine load average (1 min), mean over the phases', '', (f) => f.loadAverage),
    row('sandbox up (start-up, image build and chart install included)', 's', (f) => f.sandboxUpS),
    row('control plane create → watch event, p50', 'ms', (f) => pct(f.roundTrip, 50)),
    row('control plane create → watch event, p99', 'ms', (f) => pct(f.roundTrip, 99)),
    row('dispatch latency one at a time (hash → Job), p50', 'ms', (f) => pct(f.dispatchSingle, 50)),
    row('dispatch latency one at a time (hash → Job), p99', 'ms', (f) => pct(f.dispatchSingle, 99)),
    row('apply → status.apiStatus.url one at a time, p50', 'ms', (f) => pct(f.applyToUrl, 50), '≤ 3000'),
    row('apply → status.apiStatus.url one at a time, p99', 'ms', (f) => pct(f.applyToUrl, 99)),
  ];
  for (const key of ['podToBound', 'boundToFirstLog', 'podStart', 'boundToRunning', 'work', 'doneToComplete', 'total'] as const) {
    rows.push(row(`one at a time: ${stepLabel(key)}, p50`, 'ms', step(key, 'singleSteps', 50)));
  }
  const phases = Math.max(0, ...figures.map((f) => f.paced.length));
  for (let i = 0; i < phases; i++) {
    const phase = figures.find((f) => f.paced[i])!.paced[i]!.phase;
    const name = `${phase.n} at ${phase.perSecond}/s`;
    rows.push(row(`apply → url, ${name}, p50`, 'ms', (f) => pct(f.paced[i]?.latencies, 50), phase.n === 20 && phase.perSecond === 1 ? '≤ 2000' : undefined));
    rows.push(row(`apply → url, ${name}, p99`, 'ms', (f) => pct(f.paced[i]?.latencies, 99), phase.n === 20 && phase.perSecond === 1 ? '≤ 5000' : undefined));
  }
  if (figures.some((f) => f.realistic)) {
    rows.push(row('apply → url with the realistic import, overhead over the import, p50', 'ms', (f) => f.realistic && f.realistic.latencies.length ? pct(f.realistic.latencies, 50)! - f.realistic.importMs : undefined));
  }
  if (figures.some((f) => f.burst)) {
    const n = figures.find((f) => f.burst)!.burst!.n;
    rows.push(
      row(`burst of ${n}: all Ready`, 's', (f) => f.burst?.elapsedS),
      row(`burst of ${n}: ARM floor for its writes`, 's', (f) => f.burst?.floorS),
      row(`burst of ${n}: elapsed / ARM floor`, '', (f) => (f.burst && f.burst.floorS > 0 ? f.burst.elapsedS / f.burst.floorS : undefined), '≤ 1.5'),
      row(`burst of ${n}: Ready`, '', (f) => f.burst?.ready),
      row(`burst of ${n}: most Jobs at once`, '', (f) => f.burst?.maxJobs),
      row(`burst: ${stepLabel('podStart')}, p50`, 'ms', step('podStart', 'burst', 50)),
      row(`burst: ${stepLabel('podStart')}, p99`, 'ms', step('podStart', 'burst', 99)),
      row(`burst: ${stepLabel('total')}, p50`, 'ms', step('total', 'burst', 50)),
      row('burst: CPU per change (user+sys), p50', 's', (f) => pct(f.burst?.cost.cpuS, 50), '≤ 0.3'),
      row('burst: executor peak RSS, p50', 'MB', (f) => pct(f.burst?.cost.rssMb, 50), '≤ 80'),
      row('burst: leading webhook+dispatcher peak RSS', 'MB', (f) => f.burst?.leader.peakMb, '≤ 200'),
    );
  }
  rows.push(
    row('node memory after start-up (summed RSS)', 'MB', (f) => f.nodeIdle.rssMb),
    row('node memory, peak (summed RSS)', 'MB', (f) => f.nodePeak.rssMb),
    row('  of which the runtime (node agent | containerd, kubelet, …)', 'MB', (f) => f.nodePeak.runtimeMb),
    row('  of which the pods (Jobs, webhook + dispatcher)', 'MB', (f) => f.nodePeak.podsMb),
  );
  rows.push(row('node memory, peak (summed PSS: shared pages split)', 'MB', (f) => f.nodePeak.pssMb));
  if (figures.some((f) => f.nodePeak.cgroupMb !== undefined)) rows.push(row('node: kubepods memory cgroup, peak (incl. page cache)', 'MB', (f) => f.nodePeak.cgroupMb));
  return rows;
}

/** A fixed-width table: the row, one column per node, the ratio of the last to the first (two nodes), the target. */
export function comparisonTable(columns: string[], rows: Row[]): string {
  const show = (v: number | undefined, unit: Row['unit']) => {
    if (v === undefined || !Number.isFinite(v)) return '–';
    const digits = unit === 's' || unit === '' ? (Number.isInteger(v) ? 0 : v < 10 ? 2 : 1) : unit === 'ms' && v < 10 ? 1 : 0;
    return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
  };
  const ratio = (values: (number | undefined)[]) => {
    const [a, b] = [values[0], values.at(-1)];
    return columns.length === 2 && a !== undefined && b !== undefined && a > 0 ? `${(b / a).toFixed(2)}×` : '';
  };
  const header = ['', ...columns, ...(columns.length === 2 ? [`${columns[1]} / ${columns[0]}`] : []), 'target'];
  const body = rows.map((r) => [r.label, ...r.values.map((v) => show(v, r.unit)), ...(columns.length === 2 ? [ratio(r.values)] : []), r.target ? `${r.target}${r.unit ? ` ${r.unit}` : ''}` : '']);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}
