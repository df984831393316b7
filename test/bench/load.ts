// A small closed-loop HTTPS load generator: N concurrent keep-alive connections, each sending the next request as
// soon as the previous one is answered. Latency is measured per request, in this process.
import https from 'node:https';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runLoad(opts: { url: string; ca: string; bodies: () => Buffer; requests: number; concurrency: number; check?: (status: number, body: string) => boolean }): Promise<LoadResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: opts.concurrency, ca: opts.ca });
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const one = (body: Buffer) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = https.request(opts.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          latencies.push(performance.now() - started);
          if (opts.check && !opts.check(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))) errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (issued < opts.requests) {
        issued++;
        await one(opts.bodies());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  return { requests: latencies.length, seconds, perSecond: latencies.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, errors };
}
