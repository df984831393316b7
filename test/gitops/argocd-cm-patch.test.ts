// The argocd-cm snippet and the health script it carries cannot drift apart: the committed YAML is what
// `node test/gitops/argocd-cm-patch.ts` generates from argocd-health.lua, and reading it back as YAML gives the script
// byte for byte under Argo CD's key for the kind. (That the patch merges into a real argocd-cm: argocd-health.test.ts.)
import t from 'tap';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { argocdCmPatch, CM_PATCH, HEALTH_KEY, HEALTH_LUA } from './argocd-cm-patch.ts';

const lua = readFileSync(HEALTH_LUA, 'utf8');

t.test('the committed patch is the generated one', async (t) => {
  t.equal(readFileSync(CM_PATCH, 'utf8'), argocdCmPatch(lua), 'run `node test/gitops/argocd-cm-patch.ts` after editing argocd-health.lua');
});

t.test('as YAML, the patch is argocd-cm with the script under resource.customizations.health.oda.tmforum.org_ExposedAPI', async (t) => {
  const docs = YAML.parseAllDocuments(readFileSync(CM_PATCH, 'utf8'));
  t.equal(docs.length, 1);
  t.same(docs[0]!.errors, []);
  const cm = docs[0]!.toJS() as Record<string, any>;
  t.match(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'argocd' } });
  t.equal(HEALTH_KEY, 'resource.customizations.health.oda.tmforum.org_ExposedAPI');
  t.same(Object.keys(cm['data']), [HEALTH_KEY], 'nothing else of argocd-cm is touched (no ignoreDifferences, no other customizations)');
  t.equal(cm['data'][HEALTH_KEY], lua, 'the script, byte for byte');
});

t.test('the generator refuses what YAML block indentation cannot carry', async (t) => {
  t.throws(() => argocdCmPatch('local x = 1\n\treturn x\n'), /indent with spaces/);
});
