// executor/apim-error.ts and kube-client.ts: which failures are retried, which are permanent, and APIM's code,
// target and message carried through (the three forms the SDK reports failures in).
import t from 'tap';
import { classifyApimError } from '../../executor/apim-error.ts';
import { classifyKubeError, KubeError } from '../../executor/kube-client.ts';
import { renderApimError } from '../../executor/step-failure.ts';

function restError(status: number | undefined, body: unknown, headers: Record<string, string> = {}, code?: string): Error {
  const e = Object.assign(new Error(typeof body === 'object' && body ? ((body as any).error?.message ?? 'x') : String(body)), {
    name: 'RestError',
    statusCode: status,
    code,
    response: { bodyAsText: typeof body === 'string' ? body : JSON.stringify(body), headers: { get: (n: string) => headers[n] } },
  });
  return e;
}

t.test('APIM responses', async (t) => {
  const pathClash = classifyApimError(restError(400, { error: { code: 'ValidationError', message: 'One or more fields contain incorrect values:', details: [{ code: 'ValidationError', target: 'path', message: "Cannot create API 'b' with the same Path 'p' as API 'a'  unless it's a part of the same version set" }] } }));
  t.same([pathClash.retriable, pathClash.reason, pathClash.notFound], [false, 'ApimRejected', false]);
  t.equal(renderApimError(pathClash.detail), "400 ValidationError (target path): One or more fields contain incorrect values: Cannot create API 'b' with the same Path 'p' as API 'a'  unless it's a part of the same version set (another APIM API uses this path; change spec.path or remove the other API)", 'APIM\'s words, and what to do');
  const throttled = classifyApimError(restError(429, { error: { code: 'SubscriptionRequestsThrottled', message: 'Number of requests exceeded the limit.' } }, { 'retry-after': '7' }));
  t.same([throttled.retriable, throttled.reason, throttled.retryAfterMs], [true, 'Throttled', 7000]);
  t.same(classifyApimError(restError(409, { error: { code: 'PessimisticConcurrencyConflict', message: 'Operation on the API is in progress' } })).retriable, true, 'the SDK never retries this 409; we do');
  t.same(classifyApimError(restError(409, { error: { code: 'Conflict', message: 'The product display name is already used' } })).retriable, false, 'other conflicts are permanent');
  t.same(classifyApimError(restError(500, { error: { code: 'InternalServerError', message: 'x' } })).reason, 'ApimUnavailable');
  t.same(classifyApimError(restError(503, 'Service Unavailable')).retriable, true);
  t.same(classifyApimError(restError(412, { error: { code: 'PreconditionFailed', message: 'etag' } })).retriable, true, 'changed meanwhile: read again');
  t.same(classifyApimError(restError(403, { error: { code: 'AuthorizationFailed', message: 'no role' } })).reason, 'ApimAccessDenied');
  t.ok(classifyApimError(restError(404, { error: { code: 'ResourceNotFound', message: 'Api not found.' } })).notFound);
  const dropped = classifyApimError(restError(undefined, 'socket hang up', {}, 'REQUEST_SEND_ERROR'));
  t.same([dropped.retriable, dropped.reason], [true, 'ApimUnreachable']);
});

t.test('a failed long-running operation (Azure-AsyncOperation polling): a plain Error with code and message', async (t) => {
  const failed = classifyApimError(new Error("The long-running operation has failed. ValidationError. Importing API has duplicate signature operations: 2 operations with signature 'GET /x'"));
  t.same([failed.retriable, failed.detail.code, failed.detail.message], [false, 'ValidationError', "Importing API has duplicate signature operations: 2 operations with signature 'GET /x'"]);
  t.same(classifyApimError(new Error('The long-running operation has failed. InternalServerError. try again')).retriable, true);
});

t.test('identity and network errors are retried', async (t) => {
  const auth = classifyApimError(Object.assign(new Error('AADSTS7000215: Invalid client secret provided.'), { name: 'AuthenticationError' }));
  t.same([auth.retriable, auth.reason], [true, 'AzureAuthenticationFailed']);
  t.match(auth.detail.message, 'workload identity');
  t.same(classifyApimError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).reason, 'ApimUnreachable');
});

t.test('Kubernetes errors', async (t) => {
  t.same(classifyKubeError(new KubeError('PATCH', '/x', 409, 'Conflict', 'the object has been modified')).retriable, true);
  t.same(classifyKubeError(new KubeError('POST', '/x', 409, 'AlreadyExists', 'exists')).retriable, false);
  t.same(classifyKubeError(new KubeError('GET', '/x', 403, 'Forbidden', 'cannot get')).reason, 'KubernetesForbidden');
  t.same(classifyKubeError(new KubeError('GET', '/x', 503, 'ServiceUnavailable', 'x')).retriable, true);
  t.same(classifyKubeError(new Error('ECONNRESET')).reason, 'KubernetesUnreachable');
});
