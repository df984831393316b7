// Both decisions judge only oda.tmforum.org ExposedAPIs: any other kind that reaches the webhook (a hand-edited
// configuration, a broader rule) is allowed unchanged — no finalizer, no spec hash, no denial.
import t from 'tap';
import { defaultValidationContext } from '../../core/validate-exposedapi.ts';
import { isExposedApiRequest } from '../../webhook/admission-kind.ts';
import type { AdmissionRequest } from '../../webhook/admission-review.ts';
import { mutateDecision } from '../../webhook/mutate-decision.ts';
import { validateDecision } from '../../webhook/validate-decision.ts';
import { exposedApi } from '../helpers/fixtures.ts';

const invalid = exposedApi({ spec: { port: 0, path: 'no-slash' } }); // denied when judged as an ExposedAPI
const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'components' }, data: { a: 'b' } };

const cases: { name: string; kind: AdmissionRequest['kind']; object: Record<string, unknown>; ours: boolean }[] = [
  { name: 'ExposedAPI v1', kind: { group: 'oda.tmforum.org', version: 'v1', kind: 'ExposedAPI' }, object: invalid, ours: true },
  { name: 'ExposedAPI v1beta3 (any served version)', kind: { group: 'oda.tmforum.org', version: 'v1beta3', kind: 'ExposedAPI' }, object: invalid, ours: true },
  { name: 'no request.kind (hand-made review): the registered kind', kind: undefined, object: invalid, ours: true },
  { name: 'a ConfigMap', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, object: configMap, ours: false },
  { name: 'another ODA kind', kind: { group: 'oda.tmforum.org', version: 'v1', kind: 'Component' }, object: invalid, ours: false },
  { name: 'an ExposedAPI of another group', kind: { group: 'apis.example.com', version: 'v1', kind: 'ExposedAPI' }, object: invalid, ours: false },
  { name: 'the kind in lower case is another kind', kind: { group: 'oda.tmforum.org', version: 'v1', kind: 'exposedapi' }, object: invalid, ours: false },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const req: AdmissionRequest = { uid: 'u-1', ...(c.kind ? { kind: c.kind } : {}), operation: 'CREATE', namespace: 'components', name: 'x', object: c.object };
    t.equal(isExposedApiRequest(req), c.ours);
    const mutated = await mutateDecision(req);
    const validated = await validateDecision(req, { ...defaultValidationContext(), remoteMode: 'off' });
    if (c.ours) {
      t.equal(mutated.outcome, 'stamped', 'mutate stamps it');
      t.equal(validated.outcome, 'denied', 'validate judges it');
    } else {
      t.same(mutated, { response: { uid: 'u-1', allowed: true }, outcome: 'skipped' }, 'mutate allows it unchanged (no patch)');
      t.same(validated, { response: { uid: 'u-1', allowed: true }, outcome: 'allowed-other-kind' }, 'validate allows it unchanged');
    }
  });
}
