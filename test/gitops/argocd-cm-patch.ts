// Generates manifests/gitops/argocd-cm-patch.yaml from manifests/gitops/argocd-health.lua, so the health check has one
// source: `node test/gitops/argocd-cm-patch.ts` rewrites the patch; test/gitops/argocd-cm-patch.test.ts checks that
// the committed one is what this produces. The key is Argo CD's per-resource form,
// resource.customizations.health.<group>_<kind> (argocd-cm; Argo CD 1.9 and later).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KIND, ODA_GROUP } from '../../core/exposedapi-model.ts';

export const GITOPS_DIR = fileURLToPath(new URL('../../manifests/gitops/', import.meta.url));
export const HEALTH_LUA = join(GITOPS_DIR, 'argocd-health.lua');
export const CM_PATCH = join(GITOPS_DIR, 'argocd-cm-patch.yaml');
export const HEALTH_KEY = `resource.customizations.health.${ODA_GROUP}_${KIND}`;

export function argocdCmPatch(lua: string): string {
  if (lua.includes('\t')) throw new Error('argocd-health.lua: indent with spaces (a tab cannot sit in YAML block indentation)');
  const body = lua.replace(/\n$/, '').split('\n').map((line) => (line === '' ? '' : `    ${line}`)).join('\n');
  return [
    '# Generated from argocd-health.lua by `node test/gitops/argocd-cm-patch.ts`: edit the .lua, then regenerate.',
    '# Argo CD health for ExposedAPIs (docs/gitops.md). Merge into argocd-cm, e.g.',
    '#   kubectl -n argocd patch configmap argocd-cm --type merge --patch-file argocd-cm-patch.yaml',
    '# or as a kustomize patch of your Argo CD install (the Helm chart: configs.cm).',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: argocd-cm',
    '  namespace: argocd',
    '  labels:',
    '    app.kubernetes.io/name: argocd-cm',
    '    app.kubernetes.io/part-of: argocd',
    'data:',
    `  ${HEALTH_KEY}: |`,
    body,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CM_PATCH, argocdCmPatch(readFileSync(HEALTH_LUA, 'utf8')));
  process.stdout.write(`${CM_PATCH}\n`);
}
