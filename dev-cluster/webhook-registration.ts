// Registers a webhook served outside the cluster (a workstation, the local control plane, the sandbox) by URL and
// caBundle, from the same configurations as manifests/base: only clientConfig changes (and, when several
// registrations share one cluster, the names and a namespace label that scopes them).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const MANIFEST = fileURLToPath(new URL('../manifests/base/webhook-configurations.yaml', import.meta.url));

export interface LocalRegistrationOptions {
  /** https://host:port of the webhook server. */
  url: string;
  caPem: string;
  /** Appended to the configuration names, so that several registrations can coexist. */
  nameSuffix?: string;
  /** Only namespaces with these labels are sent to this webhook. */
  namespaceLabels?: Record<string, string>;
  /** Override the manifests' failurePolicy (tests of the Ignore behaviour). */
  failurePolicy?: 'Fail' | 'Ignore';
}

export function localWebhookConfigurations(options: LocalRegistrationOptions): Record<string, any>[] {
  const docs = YAML.parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map((d) => d.toJS() as Record<string, any>);
  const caBundle = Buffer.from(options.caPem).toString('base64');
  return docs.map((doc) => {
    const copy = structuredClone(doc);
    if (options.nameSuffix) copy['metadata'].name = `${copy['metadata'].name}-${options.nameSuffix}`;
    for (const w of copy['webhooks'] as Record<string, any>[]) {
      const path = w['clientConfig'].service.path as string;
      w['clientConfig'] = { url: `${options.url}${path}`, caBundle };
      if (options.failurePolicy) w['failurePolicy'] = options.failurePolicy;
      if (options.namespaceLabels) w['namespaceSelector'] = { ...w['namespaceSelector'], matchLabels: options.namespaceLabels };
    }
    return copy;
  });
}
