// `exposedapi-apim webhook [--local]`: serves admission until SIGTERM/SIGINT. Configured by environment (README).
// --local is for trying it on a workstation: a throw-away certificate for 127.0.0.1/localhost, loopback only, and
// path uniqueness only when a kubeconfig is available.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../certs/pki.ts';
import { readWebhookConfig } from '../core/operator-config.ts';
import { readDispatcherConfig, serviceAccountNamespace } from '../core/dispatcher-config.ts';
import { startWebhook } from '../webhook/run-webhook.ts';

const HELP = `usage: exposedapi-apim webhook [--local]

Serves POST /validate and POST /mutate (admission.k8s.io/v1) over HTTPS, plus /healthz, /readyz and /metrics.
Configuration comes from environment variables; see the README's configuration table.

  --local   try it on this machine: generates a certificate under ~/.cache/exposedapi-apim/local-webhook,
            listens on https://127.0.0.1:8443 (WEBHOOK_PORT to change) and checks path uniqueness only
            when KUBECONFIG points at a cluster
`;

async function localEnvironment(): Promise<Record<string, string>> {
  const dir = join(process.env['EXPOSEDAPI_APIM_CACHE'] ?? join(homedir(), '.cache', 'exposedapi-apim'), 'local-webhook');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const ca = await createCertificateAuthority('exposedapi-apim local webhook CA');
    const leaf = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });
    writeFileSync(certFile, leaf.certPem);
  }
  return {
    WEBHOOK_HOST: '127.0.0.1',
    TLS_CERT_FILE: certFile,
    TLS_KEY_FILE: keyFile,
    PATH_UNIQUENESS: process.env['KUBECONFIG'] ? 'true' : 'false',
    CA_FILE: join(dir, 'ca.crt'),
  };
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const local = args.includes('--local');
  const unknown = args.filter((a) => a !== '--local');
  if (unknown.length > 0) {
    process.stderr.write(`exposedapi-apim webhook: unexpected arguments ${unknown.join(' ')}\n\n${HELP}`);
    return 2;
  }
  const localEnv = local ? await localEnvironment() : {};
  const env = { ...localEnv, ...process.env };
  const parsed = readWebhookConfig(env);
  // The dispatcher (DISPATCHER_ENABLED, default on in a cluster) runs in this process: see docs/dispatcher.md.
  const dispatcher = readDispatcherConfig(env, { serviceAccountNamespace: serviceAccountNamespace(env), hostname: hostname(), randomSuffix: randomBytes(3).toString('hex') });
  const errors = [...(parsed.ok ? [] : parsed.errors), ...(dispatcher.ok ? [] : dispatcher.errors)];
  if (!parsed.ok || !dispatcher.ok) {
    process.stderr.write(`exposedapi-apim webhook: invalid configuration:\n${errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return 2;
  }
  const webhook = await startWebhook(parsed.config, { dispatcher: dispatcher.config });
  webhook.app.log.info({ url: webhook.url }, 'admission webhook listening');
  if (local) {
    process.stderr.write(
      `\nexposedapi-apim webhook is serving on ${webhook.url} (CA: ${localEnv['CA_FILE']})\n` +
        `try:  curl --cacert ${localEnv['CA_FILE']} ${webhook.url}/healthz\n` +
        `offline checks of manifests: npm run cli -- validate PATH...\nCtrl-C to stop.\n\n`,
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await webhook.close();
  return 0;
}
