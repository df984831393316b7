// The least-privilege role in the README is exactly what the executor's requests need: the actions of
// executor/apim-operations.ts (whose requests test/executor/arm-client.test.ts holds to the SDK's, and
// productcatalog.test.ts holds every request of a run to).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR } from '../helpers/fixtures.ts';
import { requiredActions } from '../../executor/apim-operations.ts';

t.test('the README\'s custom role lists the actions the executor needs, no more, no fewer', async (t) => {
  const readme = readFileSync(join(REPO_DIR, 'README.md'), 'utf8');
  const block = /\*\*Permissions the APIM identity needs:\*\*[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
  t.ok(block, 'the role block is in the README');
  const role = JSON.parse(block!.replace(/^ {2}/gm, '')) as { Actions: string[]; NotActions: string[]; IsCustom: boolean };
  t.same(role.Actions, requiredActions());
  t.same(role.NotActions, []);
  t.ok(role.Actions.every((a) => a.startsWith('Microsoft.ApiManagement/service/')), 'nothing outside the APIM service');
  t.notOk(role.Actions.some((a) => a.includes('*')), 'no wildcard');
});
