// The pod network of a real node: a bridge this run creates, with the host's address on it (the pods' gateway), and
// the one thing pods need of the host that listens on loopback only: the apiserver. Its `kubernetes` Service is
// advertised at the gateway (kube-apiserver --advertise-address, lease reconciler), and a forwarder on the gateway
// address and the apiserver's own port passes each connection to the apiserver on 127.0.0.1. Binding the apiserver to
// all addresses instead would open it on the machine's own interface too.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { PodNetwork } from './node-config.ts';

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  return r.stdout;
}

/** IPv4 networks already on this machine's interfaces or routes, as [network, prefix] pairs. */
export function usedNetworks(): [number, number][] {
  const text = ip(['-4', '-o', 'addr', 'show']) + ip(['-4', 'route', 'show', 'table', 'all']);
  return [...text.matchAll(/(\d+\.\d+\.\d+\.\d+)\/(\d+)/g)].map((m) => [toInt(m[1]!), Number(m[2])]);
}

export const toInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
export const overlaps = (a: number, pa: number, b: number, pb: number): boolean => {
  const p = Math.min(pa, pb);
  const mask = p === 0 ? 0 : (~0 << (32 - p)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
};

/** A free /24 in 10.244.0.0/16 (the conventional pod range, clear of the 10.0.0.0/24 Service range) and a bridge name. */
export function choosePodNetwork(): PodNetwork {
  const used = usedNetworks();
  for (let attempt = 0; attempt < 64; attempt++) {
    const third = randomInt(1, 255);
    const subnet = `10.244.${third}.0`;
    if (used.some(([n, p]) => overlaps(toInt(subnet), 24, n, p))) continue;
    // Interface names are at most 15 bytes.
    return { bridge: `eaa-${randomBytes(4).toString('hex')}`, subnet: `${subnet}/24`, gateway: `10.244.${third}.1`, prefixLength: 24 };
  }
  throw new Error('no free /24 in 10.244.0.0/16 on this machine\'s interfaces and routes; delete stale eaa-* bridges (ip link del <name>)');
}

export function createBridge(net: PodNetwork): void {
  ip(['link', 'add', 'name', net.bridge, 'type', 'bridge']);
  try {
    ip(['addr', 'add', `${net.gateway}/${net.prefixLength}`, 'dev', net.bridge]);
    ip(['link', 'set', net.bridge, 'up']);
  } catch (err) {
    deleteBridge(net.bridge);
    throw err;
  }
}

/** Deletes the bridge if it exists (its veth ends went with the pods' network namespaces). */
export function deleteBridge(bridge: string): void {
  const r = spawnSync('ip', ['link', 'del', bridge], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0 && !/Cannot find device|does not exist/i.test(r.stderr)) throw new Error(`ip link del ${bridge}: ${r.stderr.trim()}`);
}

export interface ApiserverForwarder {
  address: string;
  port: number;
  close: () => Promise<void>;
}

/** gateway:port → 127.0.0.1:port, byte for byte (TLS passes through: pods verify the apiserver's own certificate). */
export async function forwardApiserver(gateway: string, port: number): Promise<ApiserverForwarder> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, gateway, () => resolve());
  });
  return {
    address: gateway,
    port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
