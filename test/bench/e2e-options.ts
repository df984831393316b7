// bench:e2e's command line: which nodes to measure (--node process|real|both) and how big each phase is (--quick, or
// the BENCH_E2E_* environment variables, which win over either size). Pure, so the choice of nodes and the sizes are
// table-tested without a cluster.

/** process: the node agent runs each pod as a local process; real: kubelet and containerd (dev-cluster/node). */
export type BenchNode = 'process' | 'real';

export interface PacedPhase {
  n: number;
  perSecond: number;
}

export interface E2eSizes {
  /** APIs applied one at a time. */
  single: number;
  /** Paced phases: N APIs created at a steady rate. */
  paced: PacedPhase[];
  /** APIs applied together with the emulator's realistic import duration (0 = skip). */
  realistic: number;
  /** APIs created at once with ARM throttling on (0 = skip). */
  burst: number;
}

export interface E2eOptions {
  /** undefined: both when the real node can run on this machine, else process (chooseNodes). */
  node: BenchNode | 'both' | undefined;
  quick: boolean;
  sizes: E2eSizes;
  help: boolean;
}

const FULL = { BENCH_E2E_SINGLE: '10', BENCH_E2E_PACED: '20@1,100@5', BENCH_E2E_REALISTIC: '3', BENCH_E2E_BURST: '500' };
/** A few minutes per node: the sizes CI-free checks have used (docs/dispatcher.md), no realistic import (144 s). */
const QUICK = { BENCH_E2E_SINGLE: '3', BENCH_E2E_PACED: '5@1,10@5', BENCH_E2E_REALISTIC: '0', BENCH_E2E_BURST: '50' };

export const E2E_USAGE = `usage: npm run bench:e2e -- [--node process|real|both] [--quick]
  --node   process: the node agent (pods as local processes); real: kubelet + containerd, the operator from its image
           by its chart; both (default when this machine can run a real node, else process, with the reason)
  --quick  small sizes (${Object.entries(QUICK).map(([k, v]) => `${k}=${v}`).join(' ')}): a few minutes per node
sizes (environment, over the defaults or --quick): BENCH_E2E_SINGLE, BENCH_E2E_PACED (N@rate,…; empty = none),
  BENCH_E2E_REALISTIC, BENCH_E2E_BURST; full defaults ${Object.entries(FULL).map(([k, v]) => `${k}=${v}`).join(' ')}`;

/** Every problem at once, each naming the argument or variable, its value and what is valid. */
export function e2eOptions(argv: string[], env: Record<string, string | undefined>): { options: E2eOptions } | { errors: string[] } {
  const errors: string[] = [];
  let node: E2eOptions['node'];
  let quick = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const inline = /^--node=(.*)$/.exec(arg);
    if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--node' || inline) {
      const value = inline ? inline[1] : argv[++i];
      if (value === 'process' || value === 'real' || value === 'both') node = value;
      else errors.push(`--node: ${JSON.stringify(value ?? '')} is not a node; use process, real or both`);
    } else errors.push(`${JSON.stringify(arg)} is not an option of bench:e2e; use --node process|real|both, --quick`);
  }
  const defaults: Record<string, string> = quick ? QUICK : FULL;
  const raw = (name: keyof typeof FULL): string => env[name] ?? defaults[name]!;
  const count = (name: keyof typeof FULL): number => {
    const value = raw(name);
    const n = value === '' ? Number(defaults[name]) : Number(value);
    if (!Number.isInteger(n) || n < 0) {
      errors.push(`${name}=${JSON.stringify(value)} must be a whole number ≥ 0 (default ${defaults[name]})`);
      return 0;
    }
    return n;
  };
  const paced = raw('BENCH_E2E_PACED').split(',').filter((x) => x.trim() !== '').flatMap((phase) => {
    const m = /^\s*(\d+)@(\d+(?:\.\d+)?)\s*$/.exec(phase);
    if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) {
      errors.push(`BENCH_E2E_PACED: ${JSON.stringify(phase)} must be N@rate, e.g. 20@1 (20 APIs, one per second)`);
      return [];
    }
    return [{ n: Number(m[1]), perSecond: Number(m[2]) }];
  });
  const sizes = { single: count('BENCH_E2E_SINGLE'), paced, realistic: count('BENCH_E2E_REALISTIC'), burst: count('BENCH_E2E_BURST') };
  return errors.length ? { errors } : { options: { node, quick, sizes, help } };
}

/**
 * The nodes to measure, in the order they run. Without --node: both when the real node can run here (its host
 * problems are empty), else the process mode with the reason. Asking for the real node where it cannot run is an
 * error that names what is missing.
 */
export function chooseNodes(asked: E2eOptions['node'], realNodeProblems: string[]): { nodes: BenchNode[]; note?: string } | { error: string } {
  const problems = realNodeProblems.map((p) => `  - ${p}`).join('\n');
  if (asked === 'process') return { nodes: ['process'] };
  if (realNodeProblems.length === 0) return { nodes: asked === 'real' ? ['real'] : ['process', 'real'] };
  if (asked === undefined) return { nodes: ['process'], note: `measuring the process mode only: the real node cannot run on this machine:\n${problems}` };
  return { error: `--node ${asked}: the real node cannot run on this machine:\n${problems}\n(--node process measures the node agent alone)` };
}
