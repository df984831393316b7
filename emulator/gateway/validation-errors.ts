// The validation policies' answers (https://learn.microsoft.com/azure/api-management/validate-content-policy and its
// siblings, "Validation errors"): "When a validation policy specifies the prevent action and produces an error, the
// response from API management includes an HTTP status code: 400 when the policy is applied in the inbound section,
// and 502 when the policy is applied in the outbound section." The client gets the table's "Public response": the
// request-side details for inbound errors, and "The request could not be processed due to an internal error. Contact
// the API owner." for response-side and schema errors. The `{ statusCode, message }` envelope is the gateway's usual
// one (unverified for these errors). `detect` logs and lets the message through; the emulator only lets it through.
import type { GatewayReply } from './gateway-errors.ts';
import { errorReply } from './gateway-errors.ts';
import type { Action } from './policy-elements.ts';

export const INTERNAL_VALIDATION_MESSAGE = 'The request could not be processed due to an internal error. Contact the API owner.';

/** What a validation problem becomes under an action: a reply for prevent, nothing for detect and ignore. */
export function onProblem(action: Action, section: 'inbound' | 'outbound', publicMessage: string): GatewayReply | undefined {
  if (action !== 'prevent') return undefined;
  return section === 'inbound' ? errorReply(400, publicMessage) : errorReply(502, INTERNAL_VALIDATION_MESSAGE);
}

/** The media type of a Content-Type value, lower-cased, without parameters ('' when absent). */
export function mediaType(contentType: string | string[] | undefined): string {
  const v = Array.isArray(contentType) ? contentType[0] : contentType;
  return (v ?? '').split(';')[0]!.trim().toLowerCase();
}
