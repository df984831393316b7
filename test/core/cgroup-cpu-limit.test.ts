// The CPUs the webhook may use: the cgroup quota found from fake /proc and /sys files, v1, v2 and hybrid layouts.
import t from 'tap';
import { cgroupCpuLimit, cgroupDirs, cgroupMembership, cgroupMounts, cpuLimitV1, cpuLimitV2, usableCpus } from '../../core/cgroup-cpu-limit.ts';

// mountinfo lines as the kernel writes them (proc(5)); only the fields the reader uses differ between cases.
const V2_MOUNT = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate';
const V1_CPU_MOUNT = (root = '/') => `32 31 0:29 ${root} /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct`;
const HYBRID_UNIFIED = '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw';
const V1_MEMORY_MOUNT = '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory';

t.test('cpu.max and cfs quota files', async (t) => {
  const v2: [string | undefined, number | undefined][] = [
    ['max 100000\n', undefined],
    ['200000 100000\n', 2],
    ['150000 100000', 1.5],
    ['50000 100000', 0.5],
    ['100000', 1], // quota only: the default 100 ms period
    ['', undefined],
    [undefined, undefined],
    ['banana 100000', undefined],
    ['0 100000', undefined],
  ];
  for (const [text, cpus] of v2) t.equal(cpuLimitV2(text), cpus, `cpu.max ${JSON.stringify(text)}`);
  const v1: [string | undefined, string | undefined, number | undefined][] = [
    ['-1\n', '100000\n', undefined],
    ['100000\n', '100000\n', 1],
    ['250000', '100000', 2.5],
    ['50000', '100000', 0.5],
    [undefined, '100000', undefined],
    ['100000', undefined, undefined],
    ['', '', undefined],
  ];
  for (const [quota, period, cpus] of v1) t.equal(cpuLimitV1(quota, period), cpus, `cfs ${JSON.stringify(quota)}/${JSON.stringify(period)}`);
});

t.test('the process cgroup and the mounts', async (t) => {
  t.same(cgroupMembership('0::/kubepods/pod1/abc\n'), { v2: '/kubepods/pod1/abc' });
  t.same(cgroupMembership('12:memory:/docker/x\n4:cpu,cpuacct:/docker/x\n0::/\n'), { v1Cpu: '/docker/x', v2: '/' });
  t.same(cgroupMembership('3:cpuset:/\n2:cpuacct:/\n'), {}, 'cpuacct or cpuset alone is not the CPU controller');
  t.same(cgroupMounts([V2_MOUNT, V1_MEMORY_MOUNT].join('\n')), { v2: { root: '/', mountPoint: '/sys/fs/cgroup' } });
  t.same(cgroupMounts(V1_CPU_MOUNT('/docker/x')), { v1Cpu: { root: '/docker/x', mountPoint: '/sys/fs/cgroup/cpu,cpuacct' } });
  t.same(cgroupMounts('33 31 0:30 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw'), { v2: { root: '/', mountPoint: '/sys/fs/my cgroup' } }, 'octal escapes');
  const dirs: [string, string, string, string[]][] = [
    ['/', '/sys/fs/cgroup', '/', ['/sys/fs/cgroup']],
    ['/', '/sys/fs/cgroup', '/kubepods/pod1/c1', ['/sys/fs/cgroup/kubepods/pod1/c1', '/sys/fs/cgroup/kubepods/pod1', '/sys/fs/cgroup/kubepods', '/sys/fs/cgroup']],
    ['/docker/x', '/sys/fs/cgroup/cpu', '/docker/x', ['/sys/fs/cgroup/cpu']],
    ['/docker/x', '/sys/fs/cgroup/cpu', '/docker/x/inner', ['/sys/fs/cgroup/cpu/inner', '/sys/fs/cgroup/cpu']],
    ['/docker/x', '/sys/fs/cgroup/cpu', '/docker/xy', ['/sys/fs/cgroup/cpu']], // not under the root: the mount point only
    ['/kubepods', '/sys/fs/cgroup', '/system.slice/other', ['/sys/fs/cgroup']],
  ];
  for (const [root, mountPoint, path, expected] of dirs) t.same(cgroupDirs({ root, mountPoint }, path), expected, `${root} at ${mountPoint}, process in ${path}`);
});

t.test('the quota from a whole set of cgroup files, and the CPUs to plan for', async (t) => {
  interface Case {
    name: string;
    files: Record<string, string>;
    available: number;
    cpus: number;
    source?: string;
  }
  const cases: Case[] = [
    {
      name: 'no cgroup files at all (not Linux, or /proc hidden): the affinity count',
      files: {},
      available: 8,
      cpus: 8,
    },
    {
      name: 'cgroup v1 hybrid without a quota (this build machine)',
      files: {
        '/proc/self/cgroup': '4:memory:/process_api/x\n1:cpu:/\n0::/\n',
        '/proc/self/mountinfo': [V1_CPU_MOUNT(), V1_MEMORY_MOUNT, HYBRID_UNIFIED].join('\n'),
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      },
      available: 2,
      cpus: 2,
    },
    {
      name: 'cgroup v1 container (no cgroup namespace): the mount shows its own cgroup, limits.cpu 1',
      files: {
        '/proc/self/cgroup': '4:cpu,cpuacct:/kubepods/burstable/pod1/c1\n0::/\n',
        '/proc/self/mountinfo': V1_CPU_MOUNT('/kubepods/burstable/pod1/c1'),
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '100000\n',
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      },
      available: 16,
      cpus: 1,
      source: '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us',
    },
    {
      name: 'cgroup v2 with a cgroup namespace, limits.cpu 2 on a 16-core node',
      files: {
        '/proc/self/cgroup': '0::/\n',
        '/proc/self/mountinfo': V2_MOUNT,
        '/sys/fs/cgroup/cpu.max': '200000 100000\n',
      },
      available: 16,
      cpus: 2,
      source: '/sys/fs/cgroup/cpu.max',
    },
    {
      name: 'cgroup v2, a parent stricter than the leaf (golang/go#81180): the parent wins',
      files: {
        '/proc/self/cgroup': '0::/kubepods/pod1/c1\n',
        '/proc/self/mountinfo': V2_MOUNT,
        '/sys/fs/cgroup/kubepods/pod1/c1/cpu.max': 'max 100000\n',
        '/sys/fs/cgroup/kubepods/pod1/cpu.max': '150000 100000\n',
        '/sys/fs/cgroup/kubepods/cpu.max': '400000 100000\n',
      },
      available: 16,
      cpus: 2, // 1.5 rounds up
      source: '/sys/fs/cgroup/kubepods/pod1/cpu.max',
    },
    {
      name: 'a quota above the affinity count: the affinity count',
      files: {
        '/proc/self/cgroup': '0::/\n',
        '/proc/self/mountinfo': V2_MOUNT,
        '/sys/fs/cgroup/cpu.max': '800000 100000\n',
      },
      available: 2,
      cpus: 2,
      source: '/sys/fs/cgroup/cpu.max',
    },
    {
      name: 'half a CPU still gives one',
      files: {
        '/proc/self/cgroup': '0::/\n',
        '/proc/self/mountinfo': V2_MOUNT,
        '/sys/fs/cgroup/cpu.max': '50000 100000\n',
      },
      available: 4,
      cpus: 1,
      source: '/sys/fs/cgroup/cpu.max',
    },
    {
      name: 'hybrid: v1 holds a quota, v2 none; the smaller of the two counts',
      files: {
        '/proc/self/cgroup': '1:cpu:/\n0::/\n',
        '/proc/self/mountinfo': [V1_CPU_MOUNT(), HYBRID_UNIFIED].join('\n'),
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '300000\n',
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
        '/sys/fs/cgroup/unified/cpu.max': '500000 100000\n',
      },
      available: 8,
      cpus: 3,
      source: '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us',
    },
    {
      name: 'unreadable quota files are no quota',
      files: {
        '/proc/self/cgroup': '0::/\n',
        '/proc/self/mountinfo': V2_MOUNT,
        '/sys/fs/cgroup/cpu.max': 'garbage',
      },
      available: 4,
      cpus: 4,
    },
  ];
  for (const c of cases) {
    const limit = cgroupCpuLimit((path) => c.files[path]);
    t.equal(usableCpus(c.available, limit), c.cpus, c.name);
    t.equal(limit.source, c.source, `${c.name}: source`);
  }
});
