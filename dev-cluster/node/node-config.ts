// The real node's files: where everything lives under one node directory, and the configuration of containerd, the
// CNI network, kubelet and kube-proxy. Pure functions of the layout and the network, so the choices (and why each was
// needed on these machines) are in one place and testable without starting anything.
import { join } from 'node:path';
import { CNI_BIN_DIR } from './node-prerequisites.ts';

/** The name the node registers as: the apiserver resolves it to loopback, where kubelet listens (see kubeletConfig). */
export const NODE_NAME = 'localhost';
export const CNI_NETWORK_NAME = 'exposedapi-apim';

export interface NodeLayout {
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdConfig: string;
  containerdSocket: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  podLogsDir: string;
  kubeProxyConfig: string;
  kubeProxyKubeconfig: string;
  schedulerKubeconfig: string;
  pkiDir: string;
  logsDir: string;
}

export function nodeLayout(dir: string): NodeLayout {
  return {
    dir,
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    containerdConfig: join(dir, 'containerd', 'config.toml'),
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniIpamDir: join(dir, 'cni', 'ipam'),
    kubeletRoot: join(dir, 'kubelet'),
    kubeletConfig: join(dir, 'config', 'kubelet.yaml'),
    kubeletKubeconfig: join(dir, 'config', 'kubelet.kubeconfig'),
    podLogsDir: join(dir, 'pod-logs'),
    kubeProxyConfig: join(dir, 'config', 'kube-proxy.yaml'),
    kubeProxyKubeconfig: join(dir, 'config', 'kube-proxy.kubeconfig'),
    schedulerKubeconfig: join(dir, 'config', 'kube-scheduler.kubeconfig'),
    pkiDir: join(dir, 'pki'),
    logsDir: join(dir, 'logs'),
  };
}

/** The pod network: one /24 on a bridge this run creates; the bridge holds the gateway, the host's address there. */
export interface PodNetwork {
  bridge: string;
  /** e.g. 10.244.17.0/24 */
  subnet: string;
  /** e.g. 10.244.17.1: the host as pods see it (the apiserver, the APIM emulator and the sample backend are reached here). */
  gateway: string;
  prefixLength: number;
}

const toml = (s: string): string => JSON.stringify(s);

export function containerdConfig(layout: NodeLayout, pauseImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    '# Written by dev-cluster/node/node-config.ts: a containerd of its own for one dev-cluster node.',
    'version = 2',
    `root = ${toml(layout.containerdRoot)}`,
    `state = ${toml(layout.containerdState)}`,
    // Snapshotters that need a special filesystem only log errors here; tracing has no collector.
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]',
    '',
    '[grpc]',
    `  address = ${toml(layout.containerdSocket)}`,
    '',
    '[plugins]',
    '  [plugins."io.containerd.internal.v1.opt"]',
    `    path = ${toml(join(layout.containerdRoot, 'opt'))}`,
    `  [${cri}]`,
    // No registry is reachable: the sandbox image is the locally built one, imported before kubelet starts.
    `    sandbox_image = ${toml(pauseImage)}`,
    // This machine may not lower oom_score_adj (it is itself a container's guest): without this every pod sandbox
    // fails with "runc create failed: ... can't get final child's PID from pipe: EOF".
    '    restrict_oom_score_adj = true',
    // Pod network namespaces under this node's state directory, not the machine-wide /var/run/netns.
    '    netns_mounts_under_state_dir = true',
    '    stream_server_address = "127.0.0.1"',
    '    stream_server_port = "0"',
    '    enable_selinux = false',
    `    [${cri}.cni]`,
    `      bin_dir = ${toml(CNI_BIN_DIR)}`,
    `      conf_dir = ${toml(layout.cniConfDir)}`,
    '      max_conf_num = 1',
    `    [${cri}.containerd]`,
    '      snapshotter = "overlayfs"',
    '      default_runtime_name = "runc"',
    `      [${cri}.containerd.runtimes.runc]`,
    '        runtime_type = "io.containerd.runc.v2"',
    `        [${cri}.containerd.runtimes.runc.options]`,
    // kubelet runs with the cgroupfs driver: no systemd here, and the hierarchy is cgroup v1.
    '          SystemdCgroup = false',
    '',
  ].join('\n');
}

/**
 * bridge + host-local + portmap. The bridge is created by the node with the gateway address before any pod, and the
 * plugin is told it is not the gateway: in gateway mode it would also switch on IP forwarding for the whole machine,
 * which nothing here needs (pods talk to the host and the host to pods; the host never routes between interfaces), and
 * which would let pod traffic leave through the machine's own interface. No masquerading, for the same reason. The
 * loopback interface of each pod is set up by containerd itself with the `loopback` plugin from the same folder.
 */
export function cniConflist(layout: NodeLayout, net: PodNetwork): Record<string, unknown> {
  return {
    cniVersion: '0.4.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: net.bridge,
        isGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: net.subnet, gateway: net.gateway }]],
          routes: [{ dst: '0.0.0.0/0', gw: net.gateway }],
          dataDir: layout.cniIpamDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

export interface KubeletConfigInputs {
  port: number;
  clientCaFile: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
}

/** KubeletConfiguration (kubelet.config.k8s.io/v1beta1) for this kind of machine; see docs/dev-cluster.md. */
export function kubeletConfig(layout: NodeLayout, i: KubeletConfigInputs): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // Loopback only: the apiserver reaches it as node "localhost" (--kubelet-preferred-address-types=Hostname).
    address: '127.0.0.1',
    port: i.port,
    readOnlyPort: 0,
    healthzPort: 0,
    // The apiserver authenticates with its kubelet client certificate; anything else is refused.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: i.clientCaFile } },
    authorization: { mode: 'Webhook' },
    tlsCertFile: i.tlsCertFile,
    tlsPrivateKeyFile: i.tlsPrivateKeyFile,
    containerRuntimeEndpoint: `unix://${layout.containerdSocket}`,
    // The machine is cgroup v1 (hybrid) without systemd: kubelet 1.36 refuses v1 unless told, and must use cgroupfs.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    failSwapOn: false,
    // The eviction manager cannot read the root filesystem's stats here ("/dev/vda"): thresholds it can never cross,
    // and no image garbage collection (it would count on the same stats).
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    enforceNodeAllocatable: [],
    localStorageCapacityIsolation: false,
    // No cluster DNS and no host resolv.conf in pods: they reach what they need by address.
    resolvConf: '',
    podLogsDir: layout.podLogsDir,
    volumePluginDir: join(layout.kubeletRoot, 'volume-plugins'),
    // Pod status reaches the apiserver sooner than the defaults, which matters for Jobs that run for a second.
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    serializeImagePulls: false,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    registerNode: true,
    maxPods: 250,
  };
}

export interface KubeProxyInputs {
  /** Node-port services answer on the bridge address only, never on loopback or the machine's own interface. */
  net: PodNetwork;
}

/** KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1): iptables mode, touching nothing machine-wide it can avoid. */
export function kubeProxyConfig(layout: NodeLayout, i: KubeProxyInputs): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: layout.kubeProxyKubeconfig },
    hostnameOverride: NODE_NAME,
    mode: 'iptables',
    clusterCIDR: i.net.subnet,
    bindAddress: i.net.gateway,
    // "" turns both servers off: nothing scrapes them, and they would be two more ports to collide.
    healthzBindAddress: '',
    metricsBindAddress: '',
    nodePortAddresses: [`${i.net.gateway}/32`],
    // Zeros leave the machine's conntrack table size and timeouts as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s', udpTimeout: '0s', udpStreamTimeout: '0s' },
    iptables: { syncPeriod: '30s', minSyncPeriod: '0s', masqueradeAll: false },
  };
}
