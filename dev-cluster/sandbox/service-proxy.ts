// What a Kubernetes Service gives the webhook replicas in a cluster, for the sandbox: one address in front of
// several local processes. TCP-level (TLS stays end to end), round robin, and a replica that refuses a connection is
// skipped, so killing one replica leaves admission working — as the apiserver sees it through a Service.
import net from 'node:net';

export interface ServiceProxy {
  url: string;
  port: number;
  setBackends(ports: number[]): void;
  close(): Promise<void>;
}

export async function startServiceProxy(): Promise<ServiceProxy> {
  let backends: number[] = [];
  let next = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const candidates = backends.length;
    const tryBackend = (attempt: number) => {
      if (attempt >= candidates) {
        client.destroy();
        return;
      }
      const port = backends[next++ % backends.length]!;
      const upstream = net.connect(port, '127.0.0.1');
      upstream.once('connect', () => {
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        client.pipe(upstream).pipe(client);
        client.resume();
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
      });
      upstream.once('error', () => tryBackend(attempt + 1));
    };
    tryBackend(0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    setBackends(ports) {
      backends = [...ports];
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
