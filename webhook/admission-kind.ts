// Which admission requests are ours to judge. The webhook configurations send only ExposedAPIs, but a configuration
// edited by hand (or a broader rule added later) must not make the webhook stamp a finalizer on, or deny, objects of
// another kind: anything that is not an oda.tmforum.org ExposedAPI is allowed unchanged.
import { KIND, ODA_GROUP } from '../core/exposedapi-model.ts';
import type { AdmissionRequest } from './admission-review.ts';

/**
 * True unless request.kind names another group or kind. The apiserver always sends request.kind; a request without
 * it (a hand-made review in a test or a local tool) is taken as an ExposedAPI, the only kind the webhook is
 * registered for. The version is not compared: with matchPolicy Equivalent any served version may arrive.
 */
export function isExposedApiRequest(req: Pick<AdmissionRequest, 'kind'>): boolean {
  if (req.kind === undefined || req.kind === null) return true;
  return req.kind.group === ODA_GROUP && req.kind.kind === KIND;
}
