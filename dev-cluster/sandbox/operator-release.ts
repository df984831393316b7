// The operator as a cluster runs it, for the sandbox on a real node: its image (scripts/build-image.ts) imported into
// the node's containerd, and its Helm chart installed with values that point it at the APIM emulator and the sample
// backend on the pod network's gateway address.
//
// The emulator serves HTTPS with its own CA, which the executor's Node must trust. A Job's pod has only the image's
// files and what the dispatcher mounts, so the sandbox derives an image with one more layer holding that CA
// (`umoci insert`, no unpacking) and names it in NODE_EXTRA_CA_CERTS: what an installation behind a private CA does.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { buildImage, type ImageBuild } from '../../scripts/build-image.ts';
import { CHART_DIR, helmBinary } from '../../scripts/generate-manifests.ts';
import type { ApimEmulatorInfo } from '../../emulator/apim-emulator.ts';
import type { LocalImage } from '../node/local-images.ts';

/** Where the derived image holds the emulator's CA. */
export const SANDBOX_CA_PATH = '/etc/ssl/certs/exposedapi-apim-sandbox-ca.pem';
export const RELEASE_NAME = 'exposedapi-apim';
const REPOSITORY = 'docker.io/library/exposedapi-apim';

function run(command: string, args: string[], timeoutMs = 600_000): string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${r.status}\n${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export interface SandboxImage extends LocalImage {
  repository: string;
  tag: string;
  base: ImageBuild;
}

/**
 * The operator image (built, or reused when its inputs are unchanged) plus the emulator's CA, as a docker-archive for
 * `ctr images import`. The tag carries a hash of the base manifest and the CA, so a node that already holds it imports
 * nothing, and a new build or CA makes a new tag.
 */
export async function sandboxOperatorImage(options: { dir: string; bundleDir: string; caFile: string; log: (line: string) => void }): Promise<SandboxImage> {
  const out = join(options.dir, 'image');
  const base = await buildImage({ out, dist: options.bundleDir, log: (l) => options.log(`image: ${l}`) });
  const ca = readFileSync(options.caFile);
  const tag = `sandbox-${createHash('sha256').update(base.manifestDigest).update(ca).digest('hex').slice(0, 12)}`;
  const archive = join(out, `${tag}.docker.tar`);
  if (!existsSync(archive)) {
    options.log(`image: adding the emulator's CA as a layer (${REPOSITORY}:${tag})`);
    const work = mkdtempSync(join(out, '.sandbox-'));
    try {
      const layout = join(work, 'oci');
      run('skopeo', ['copy', '--quiet', `oci:${base.layout}:${base.tag}`, `oci:${layout}:${tag}`]);
      run('umoci', ['insert', '--image', `${layout}:${tag}`, '--history.created_by', 'exposedapi-apim sandbox: the APIM emulator\'s CA', options.caFile, SANDBOX_CA_PATH]);
      const tmp = join(work, 'image.tar');
      run('skopeo', ['copy', '--quiet', `oci:${layout}:${tag}`, `docker-archive:${tmp}:${REPOSITORY}:${tag}`]);
      for (const old of readdirSync(out).filter((f) => /^sandbox-[0-9a-f]+\.docker\.tar$/.test(f))) rmSync(join(out, old), { force: true });
      renameSync(tmp, archive);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return { reference: `${REPOSITORY}:${tag}`, archive, repository: REPOSITORY, tag, base };
}

/** Chart values for the sandbox: the same settings the process-mode sandbox gives its ConfigMap. */
export function sandboxChartValues(image: { repository: string; tag: string }, emulator: Omit<ApimEmulatorInfo, 'caFile'>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const values: Record<string, any> = {
    image: { repository: image.repository, tag: image.tag, pullPolicy: 'Never' },
    logLevel: 'info',
    apim: {
      subscriptionId: emulator.subscriptionId,
      resourceGroup: emulator.resourceGroup,
      serviceName: emulator.serviceName,
      gatewayUrl: `https://${emulator.serviceName}.azure-api.net`,
      armEndpoint: emulator.url,
      products: { createMissing: true },
      tags: { createMissing: true },
    },
    route: { mode: 'ingress' },
    specFetch: { remoteCheck: 'deny', allowHttp: true, allowPrivate: true },
    // The emulator's credentials as a client secret; a real install uses workload identity (executor.workloadIdentity).
    extraConfig: {
      AZURE_AUTHORITY_HOST: emulator.authorityHost,
      AZURE_TENANT_ID: emulator.tenantId,
      AZURE_CLIENT_ID: emulator.clientId,
      AZURE_CLIENT_SECRET: emulator.clientSecret,
      NODE_EXTRA_CA_CERTS: SANDBOX_CA_PATH,
    },
    // The node's bridge network enforces no NetworkPolicy: the chart's fail-closed placeholder would only mislead.
    webhook: { networkPolicy: { enabled: false } },
  };
  return merge(values, overrides);
}

function merge(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' ? merge(out[k], v) : v;
  }
  return out;
}

/** `helm upgrade --install` of the chart, waiting (bounded) until the webhook Deployment is available. */
export function installOperatorChart(o: { dir: string; kubeconfig: string; namespace: string; values: Record<string, unknown>; timeoutSeconds?: number }): string {
  mkdirSync(o.dir, { recursive: true });
  const valuesFile = join(o.dir, 'sandbox-values.yaml');
  writeFileSync(valuesFile, YAML.stringify(o.values));
  const timeout = o.timeoutSeconds ?? 300;
  return run(helmBinary(), [
    'upgrade', '--install', RELEASE_NAME, CHART_DIR, '--namespace', o.namespace, '--create-namespace',
    '--kubeconfig', o.kubeconfig, '--values', valuesFile, '--wait', '--timeout', `${timeout}s`,
  ], (timeout + 60) * 1000);
}
