// Scalar fields of the spec: apiType, port, implementation, segment, developerUI.
import { invalid, notSupported, tooLong, type FieldError } from '../field-error.ts';
import { API_TYPES, SEGMENTS, type ExposedApi } from '../exposedapi-model.ts';
import { DNS_1035_LABEL } from '../http-tokens.ts';
import { checkUrlPath } from './api-path.ts';

export function checkBasicFields(api: ExposedApi): FieldError[] {
  const errors: FieldError[] = [];
  const s = api.spec;
  const types = API_TYPES[api.version ?? 'v1'];
  if (s.apiType !== '' && !types.includes(s.apiType)) {
    errors.push(notSupported('spec.apiType', s.apiType, types, `apiType values of ${api.version ?? 'v1'}`));
  }
  if (!Number.isNaN(s.port) && (s.port < 1 || s.port > 65535)) {
    errors.push(invalid('spec.port', s.port, 'must be a port number between 1 and 65535'));
  }
  if (s.implementation !== '') {
    if (s.implementation.length > 63) errors.push(tooLong('spec.implementation', s.implementation, 63));
    else if (!DNS_1035_LABEL.test(s.implementation)) {
      errors.push(
        invalid(
          'spec.implementation',
          s.implementation,
          "must be a Service name (DNS-1035 label): lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, e.g. r1-prodcatapi",
        ),
      );
    }
  }
  if (!(SEGMENTS as readonly string[]).includes(s.segment)) errors.push(notSupported('spec.segment', s.segment, SEGMENTS));
  if (s.developerUI !== undefined) errors.push(...checkUrlPath('spec.developerUI', s.developerUI));
  return errors;
}
