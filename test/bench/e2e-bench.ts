// bench:e2e — the whole system on the sandbox, on each node in the same run (process: the node agent runs pods as
// local processes; real: kubelet and containerd, the operator from its image by its chart; dev-cluster/node), then
// both side by side with their ratios. The phases and what each measures: e2e-run.ts; where a Job's time goes:
// job-timeline.ts; what "the node's memory" sums: node-memory.ts. Prints figures and ratios; asserts nothing.
// Start → first APIM request of one Job process in isolation is bench:executor-process.
//
//   npm run bench:e2e                       both nodes where the real one can run (else process, saying why), full size
//   npm run bench:e2e -- --quick            a few minutes per node
//   npm run bench:e2e -- --node real        one node only
//   BENCH_E2E_BURST=100 npm run bench:e2e   sizes by environment (e2e-options.ts E2E_USAGE)
//
// The real node holds the real-node tests' lock while it runs (test/helpers/real-node-test-lock.ts): its node would
// otherwise start the moment a test's node stops, inside that test's checks of the machine.
import { hostProblems } from '../../dev-cluster/node/node-prerequisites.ts';
import { holdRealNodeTestLock } from '../helpers/real-node-test-lock.ts';
import { chooseNodes, E2E_USAGE, e2eOptions } from './e2e-options.ts';
import { runE2e, type E2eFigures } from './e2e-run.ts';
import { comparisonRows, comparisonTable } from './e2e-table.ts';

const parsed = e2eOptions(process.argv.slice(2), process.env);
if ('errors' in parsed) {
  process.stderr.write(`${parsed.errors.join('\n')}\n${E2E_USAGE}\n`);
  process.exit(2);
}
if (parsed.options.help) {
  process.stdout.write(`${E2E_USAGE}\n`);
  process.exit(0);
}
const { sizes } = parsed.options;
const chosen = chooseNodes(parsed.options.node, hostProblems());
if ('error' in chosen) {
  process.stderr.write(`${chosen.error}\n`);
  process.exit(2);
}
if (chosen.note) process.stdout.write(`${chosen.note}\n`);
process.stdout.write(`bench:e2e on ${chosen.nodes.join(' and ')}: ${sizes.single} one at a time, paced ${sizes.paced.map((p) => `${p.n}@${p.perSecond}/s`).join(', ') || 'none'}, ` +
  `${sizes.realistic} with the realistic import, burst ${sizes.burst}${parsed.options.quick ? ' (--quick)' : ''}\n`);

const figures: E2eFigures[] = [];
for (const node of chosen.nodes) {
  const out = (line: string) => process.stdout.write(`[${node}] ${line}\n`);
  const started = performance.now();
  const teardowns: (() => unknown)[] = [];
  try {
    if (node === 'real') {
      out('waiting for the real-node tests\' lock (another run\'s real node may hold the machine)…');
      await holdRealNodeTestLock({ teardown: (fn) => teardowns.push(fn) });
    }
    figures.push(await runE2e({ node, sizes, out }));
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
  out(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

process.stdout.write(`\n${comparisonTable(figures.map((f) => f.node), comparisonRows(figures))}`);
process.stdout.write('Node memory is summed RSS (node-memory.ts): process = the supervisor (node agent), Job processes and the one webhook + dispatcher process; ' +
  'real = containerd, kubelet, kube-proxy, kube-scheduler, shims and every container (two webhook replicas, Jobs, pause).\n');
