// A small HTTPS client for tests that trusts a given CA and reports the peer certificate.
import https from 'node:https';

export interface HttpsResult {
  status: number;
  body: string;
  json: any;
  headers: Record<string, string | string[] | undefined>;
  peerSerial?: string;
}

export function httpsRequest(url: string, opts: { method?: string; body?: string | Buffer; ca: string; headers?: Record<string, string> }): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? 'GET', ca: opts.ca, agent: false, headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) } }, (res) => {
      const chunks: Buffer[] = [];
      const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate?.();
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, json, headers: res.headers, peerSerial: peer?.serialNumber });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export function admissionReview(request: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u-1', kind: { group: 'oda.tmforum.org', version: 'v1', kind: 'ExposedAPI' }, ...request } });
}
