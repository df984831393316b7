// Creates a CA and a serving certificate for the webhook Service's DNS names, and (with --apply) stores the
// certificate as the webhook's TLS Secret and puts the CA into both webhook configurations' caBundle.
// The cert-manager alternative is manifests/cert-manager.
//
//   node certs/create-webhook-certs.ts --out ./webhook-certs [--namespace exposedapi-apim]
//        [--service exposedapi-apim-webhook] [--days 365] [--apply]
import { AdmissionregistrationV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCertificateAuthority, issueCertificate } from './pki.ts';

export const WEBHOOK_CONFIGURATION_NAME = 'exposedapi-apim';
export const TLS_SECRET_NAME = 'exposedapi-apim-webhook-tls';

export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

export async function createWebhookCerts(opts: { namespace: string; service: string; days: number; out: string }) {
  const ca = await createCertificateAuthority(`${opts.service} webhook CA`, Math.max(opts.days, 3650));
  const leaf = await issueCertificate(ca, { commonName: `${opts.service}.${opts.namespace}.svc`, dnsNames: serviceDnsNames(opts.service, opts.namespace), usage: 'server', days: opts.days });
  mkdirSync(opts.out, { recursive: true, mode: 0o700 });
  writeFileSync(join(opts.out, 'ca.crt'), ca.certPem);
  writeFileSync(join(opts.out, 'ca.key'), ca.keyPem, { mode: 0o600 });
  writeFileSync(join(opts.out, 'tls.crt'), leaf.certPem);
  writeFileSync(join(opts.out, 'tls.key'), leaf.keyPem, { mode: 0o600 });
  return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

/** Creates or replaces the TLS Secret and sets caBundle on every webhook of both configurations. */
export async function applyWebhookCerts(kc: KubeConfig, namespace: string, pems: { caPem: string; certPem: string; keyPem: string }): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: TLS_SECRET_NAME, namespace },
    data: { 'tls.crt': Buffer.from(pems.certPem).toString('base64'), 'tls.key': Buffer.from(pems.keyPem).toString('base64'), 'ca.crt': Buffer.from(pems.caPem).toString('base64') },
  };
  try {
    await core.replaceNamespacedSecret({ name: TLS_SECRET_NAME, namespace, body: secret });
  } catch {
    await core.createNamespacedSecret({ namespace, body: secret });
  }
  const adm = kc.makeApiClient(AdmissionregistrationV1Api);
  const caBundle = Buffer.from(pems.caPem).toString('base64');
  const mutating = await adm.readMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME });
  const validating = await adm.readValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME });
  const patchOf = (n: number) => Array.from({ length: n }, (_, i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle }));
  const json = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  await adm.patchMutatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME, body: patchOf(mutating.webhooks?.length ?? 0) }, json);
  await adm.patchValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME, body: patchOf(validating.webhooks?.length ?? 0) }, json);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      namespace: { type: 'string', default: 'exposedapi-apim' },
      service: { type: 'string', default: 'exposedapi-apim-webhook' },
      days: { type: 'string', default: '365' },
      apply: { type: 'boolean', default: false },
    },
  });
  if (!values.out) {
    process.stderr.write('usage: node certs/create-webhook-certs.ts --out DIR [--namespace NS] [--service NAME] [--days N] [--apply]\n');
    process.exit(2);
  }
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1) {
    process.stderr.write(`--days ${values.days}: must be a whole number of days, e.g. 365\n`);
    process.exit(2);
  }
  const pems = await createWebhookCerts({ namespace: values.namespace!, service: values.service!, days, out: values.out });
  process.stdout.write(`wrote ca.crt, ca.key, tls.crt, tls.key to ${values.out} for ${serviceDnsNames(values.service!, values.namespace!).join(', ')}\n`);
  if (values.apply) {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    await applyWebhookCerts(kc, values.namespace!, pems);
    process.stdout.write(`stored Secret ${values.namespace}/${TLS_SECRET_NAME} and set caBundle on the ${WEBHOOK_CONFIGURATION_NAME} webhook configurations\n`);
  } else {
    process.stdout.write(`next: kubectl -n ${values.namespace} create secret tls ${TLS_SECRET_NAME} --cert ${join(values.out, 'tls.crt')} --key ${join(values.out, 'tls.key')}, then set caBundle (base64 of ca.crt) on both webhook configurations, or run again with --apply\n`);
  }
}
