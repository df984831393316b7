// bench:e2e's command line (test/bench/e2e-options.ts): sizes from --quick or the environment, every bad argument at
// once, and which nodes run — both only where the real node can, and a reason whenever the real node is left out.
import t from 'tap';
import { chooseNodes, e2eOptions } from './e2e-options.ts';

const FULL = { single: 10, paced: [{ n: 20, perSecond: 1 }, { n: 100, perSecond: 5 }], realistic: 3, burst: 500 };
const QUICK = { single: 3, paced: [{ n: 5, perSecond: 1 }, { n: 10, perSecond: 5 }], realistic: 0, burst: 50 };

t.test('sizes: full by default, --quick small, the environment over either', async (t) => {
  const cases: { argv: string[]; env: Record<string, string>; node?: string; quick: boolean; sizes: unknown }[] = [
    { argv: [], env: {}, quick: false, sizes: FULL },
    { argv: ['--quick'], env: {}, quick: true, sizes: QUICK },
    { argv: ['--quick'], env: { BENCH_E2E_BURST: '100' }, quick: true, sizes: { ...QUICK, burst: 100 } },
    { argv: [], env: { BENCH_E2E_PACED: '' }, quick: false, sizes: { ...FULL, paced: [] } },
    { argv: [], env: { BENCH_E2E_SINGLE: '' }, quick: false, sizes: FULL },
    { argv: [], env: { BENCH_E2E_PACED: ' 7@2.5 ' }, quick: false, sizes: { ...FULL, paced: [{ n: 7, perSecond: 2.5 }] } },
    { argv: ['--node', 'real'], env: {}, node: 'real', quick: false, sizes: FULL },
    { argv: ['--node=process', '--quick'], env: {}, node: 'process', quick: true, sizes: QUICK },
  ];
  for (const c of cases) {
    const r = e2eOptions(c.argv, c.env);
    if (!('options' in r)) {
      t.fail(`${c.argv.join(' ')} ${JSON.stringify(c.env)}: ${r.errors.join('; ')}`);
      continue;
    }
    t.same(r.options.sizes, c.sizes, `${c.argv.join(' ') || '(no arguments)'} ${JSON.stringify(c.env)}`);
    t.equal(r.options.quick, c.quick);
    t.equal(r.options.node, c.node);
  }
});

t.test('every bad argument and size at once, each naming its value and what is valid', async (t) => {
  const r = e2eOptions(['--node', 'kind', '--fast'], { BENCH_E2E_BURST: '-1', BENCH_E2E_SINGLE: '2.5', BENCH_E2E_PACED: '5@0,x' });
  t.ok('errors' in r);
  if (!('errors' in r)) return;
  t.same(r.errors, [
    '--node: "kind" is not a node; use process, real or both',
    '"--fast" is not an option of bench:e2e; use --node process|real|both, --quick',
    'BENCH_E2E_PACED: "5@0" must be N@rate, e.g. 20@1 (20 APIs, one per second)',
    'BENCH_E2E_PACED: "x" must be N@rate, e.g. 20@1 (20 APIs, one per second)',
    'BENCH_E2E_SINGLE="2.5" must be a whole number ≥ 0 (default 10)',
    'BENCH_E2E_BURST="-1" must be a whole number ≥ 0 (default 500)',
  ]);
  const missing = e2eOptions(['--node'], {});
  t.same('errors' in missing && missing.errors, ['--node: "" is not a node; use process, real or both']);
});

t.test('nodes: both where the real node can run; process with the reason where it cannot; asking for it there fails', async (t) => {
  const problems = ['a real node runs as root: containerd, the pod network (bridge, iptables) and kubelet\'s mounts and cgroups need it'];
  t.same(chooseNodes(undefined, []), { nodes: ['process', 'real'] });
  t.same(chooseNodes('both', []), { nodes: ['process', 'real'] });
  t.same(chooseNodes('real', []), { nodes: ['real'] });
  t.same(chooseNodes('process', []), { nodes: ['process'] });
  t.same(chooseNodes('process', problems), { nodes: ['process'] });
  const fallback = chooseNodes(undefined, problems);
  t.same('nodes' in fallback && fallback.nodes, ['process']);
  t.match('note' in fallback && fallback.note, /process mode only: the real node cannot run on this machine:\n  - a real node runs as root/);
  for (const asked of ['real', 'both'] as const) {
    const r = chooseNodes(asked, problems);
    t.match('error' in r && r.error, new RegExp(`^--node ${asked}: the real node cannot run on this machine:\\n  - a real node runs as root[^]*--node process`), asked);
  }
});
