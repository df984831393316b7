// set-backend-service (https://learn.microsoft.com/azure/api-management/set-backend-service-policy): `base-url`
// replaces the API's serviceUrl for this request; `backend-id` uses the URL of that backend entity. Constants only.
import type { XmlElement } from '../../xml-document.ts';
import type { ApimService } from '../../apim-service.ts';
import { key } from '../../service-model.ts';
import { internalServerError, NotModelled } from '../gateway-errors.ts';
import { constant, onlyAttributes, onlyChildren, placeOf } from '../policy-elements.ts';
import type { InboundStep } from '../policy-step.ts';

export function compileSetBackendService(el: XmlElement, scope: string, svc: ApimService): InboundStep {
  onlyAttributes(el, ['base-url', 'backend-id'], scope);
  onlyChildren(el, [], scope);
  const baseUrl = constant(el, 'base-url', scope);
  const backendId = constant(el, 'backend-id', scope);
  if ((baseUrl === undefined) === (backendId === undefined)) throw new NotModelled(`${placeOf(el, scope)} without exactly one of base-url and backend-id`);
  return {
    name: 'set-backend-service',
    run(state) {
      if (baseUrl !== undefined) {
        state.backendUrl = baseUrl;
        return undefined;
      }
      const url = svc.data.backends[key(backendId!)]?.properties['url'];
      // A backend deleted after the policy was saved: the gateway cannot forward (unverified status and body).
      if (typeof url !== 'string') return internalServerError();
      state.backendUrl = url;
      return undefined;
    },
  };
}
