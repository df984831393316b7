// Errors as Azure Resource Manager and API Management send them: always `{"error": {"code", "message", "details"}}`.
// The codes and messages are the real ones where they were seen in recorded traffic or public issue threads (see
// ../shared/guide/apim-contract.md); the few the emulator had to choose are marked "unverified" where they are made.
// The executor keeps code, target and message all the way to the ExposedAPI status, so they must look real.

export interface ArmErrorDetail {
  code: string;
  target: string | null;
  message: string;
}

export interface ArmErrorBody {
  error: { code: string; message: string; details: ArmErrorDetail[] | null };
}

export class ArmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ArmErrorDetail[] | null;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, details: ArmErrorDetail[] | null = null, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ArmError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  body(): ArmErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const VALIDATION_MESSAGE = 'One or more fields contain incorrect values:';

export function detail(target: string | null, message: string, code = 'ValidationError'): ArmErrorDetail {
  return { code, target, message };
}

/** APIM's usual 400: a fixed headline and one detail per problem, each naming its field (`target`). */
export function validationError(details: ArmErrorDetail[]): ArmError {
  return new ArmError(400, 'ValidationError', VALIDATION_MESSAGE, details);
}

/** A 400 whose message stands alone (e.g. duplicate signature operations on import). */
export function validationMessage(message: string): ArmError {
  return new ArmError(400, 'ValidationError', message, null);
}

/** APIM names the entity type in its 404s: "Api not found.", "Product not found.", "PolicyFragment not found.". */
export function entityNotFound(entity: string): ArmError {
  return new ArmError(404, 'ResourceNotFound', `${entity} not found.`);
}

export function apiInProgress(): ArmError {
  return new ArmError(409, 'PessimisticConcurrencyConflict', 'Operation on the API is in progress');
}

// unverified: the body of APIM's 412 was not captured; the status and ARM's usual code are certain.
export function preconditionFailed(): ArmError {
  return new ArmError(412, 'PreconditionFailed', 'The specified entity tag does not match the current version of the entity. Get the entity again and retry with its ETag.');
}

export function unauthorized(message: string): ArmError {
  return new ArmError(401, 'AuthenticationFailed', message, null, {
    'www-authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
  });
}

export function missingApiVersion(): ArmError {
  return new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
}

export function invalidApiVersion(given: string, supported: readonly string[]): ArmError {
  return new ArmError(
    400,
    'InvalidApiVersionParameter',
    `The api-version '${given}' is invalid. The supported versions are '${supported.join(',')}'.`,
  );
}

export function invalidResourceType(type: string, apiVersion: string): ArmError {
  return new ArmError(
    404,
    'InvalidResourceType',
    `The resource type '${type}' could not be found in the namespace 'Microsoft.ApiManagement' for api version '${apiVersion}'.`,
  );
}

export function pathNotFound(path: string): ArmError {
  return new ArmError(404, 'NotFound', `The requested path '${path}' was not found.`);
}

export function throttled(kind: 'read' | 'write' | 'delete', subscriptionId: string, principal: string, retryAfterSeconds: number): ArmError {
  return new ArmError(
    429,
    'SubscriptionRequestsThrottled',
    `Number of '${kind}' requests for subscription '${subscriptionId}' actor '${principal}' exceeded. Please try again after '${retryAfterSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
    null,
    { 'retry-after': String(retryAfterSeconds) },
  );
}

export function toArmError(err: unknown): ArmError {
  if (err instanceof ArmError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ArmError(500, 'InternalServerError', `The emulator failed to process the request: ${message}`);
}
