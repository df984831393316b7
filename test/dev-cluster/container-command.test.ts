// Which local program stands in for a container's entrypoint, and kubelet's $(VAR) expansion.
import t from 'tap';
import { expandEnvReferences, resolveContainerCommand } from '../../dev-cluster/node-agent/container-command.ts';
import { withoutTapLoader } from '../../dev-cluster/control-plane/supervisor-process.ts';

const ctx = { nodeBinary: '/opt/node/bin/node', repoRoot: '/repo' };

t.test('the project image runs the CLI with the pinned Node', async (t) => {
  t.same(resolveContainerCommand({ name: 'c', image: 'ghcr.io/x/exposedapi-apim:1.2.3', args: ['executor', '--once'] }, ctx, {}),
    { file: '/opt/node/bin/node', args: ['/repo/cli/main.ts', 'executor', '--once'], projectImage: true });
  t.same(resolveContainerCommand({ name: 'c', image: 'exposedapi-apim', command: ['/usr/local/bin/exposedapi-apim', 'webhook'], args: ['--port=1'] }, ctx, {}),
    { file: '/opt/node/bin/node', args: ['/repo/cli/main.ts', 'webhook', '--port=1'], projectImage: true });
  t.same(resolveContainerCommand({ name: 'c', image: 'exposedapi-apim', command: ['node', '-e', '1'] }, ctx, {}),
    { file: '/opt/node/bin/node', args: ['-e', '1'], projectImage: true });
});

t.test('other images run command + args literally, with $(VAR) expanded', async (t) => {
  t.same(resolveContainerCommand({ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit $(CODE)'], args: ['$(NOPE)'] }, ctx, { CODE: '3' }),
    { file: 'sh', args: ['-c', 'exit 3', '$(NOPE)'], projectImage: false });
  t.throws(() => resolveContainerCommand({ name: 'web', image: 'nginx' }, ctx, {}), /container "web" \(image "nginx"\) has no command.*set spec\.containers\[\]\.command/);
});

t.test('$(VAR) expansion follows Kubernetes: defined → value, undefined → kept, $$ → $', async (t) => {
  const env = { A: 'x', B: '' };
  t.equal(expandEnvReferences('$(A)-$(B)-$(C)', env), 'x--$(C)');
  t.equal(expandEnvReferences('$$(A) costs $5 $', env), '$(A) costs $5 $');
  t.equal(expandEnvReferences('$(A', env), '$(A');
});

t.test("tap's loader is removed from NODE_OPTIONS, everything else kept", async (t) => {
  t.equal(withoutTapLoader('"--import=file:///r/node_modules/@tapjs/processinfo/dist/esm/import.mjs"'), '');
  t.equal(withoutTapLoader('--max-old-space-size=64 --import /r/@tapjs/processinfo/x.mjs --enable-source-maps'), '--max-old-space-size=64 --enable-source-maps');
  t.equal(withoutTapLoader(''), '');
});
