// The one vocabulary of Kubernetes errors (core/kube/errors.ts) reads every client's shape the same way.
import t from 'tap';
import { errorMessage, isRetriable, KubeError, statusCode, statusReason } from '../../core/kube/errors.ts';

t.test('status code and reason from each client', async (t) => {
  const light = new KubeError('POST', '/api/v1/namespaces/a/events', 409, 'AlreadyExists', 'exists');
  const apiException = Object.assign(new Error('HTTP-Code: 409'), { code: 409, body: JSON.stringify({ kind: 'Status', reason: 'Conflict' }) });
  const watchRequest = Object.assign(new Error('Gone'), { statusCode: 410 });
  t.equal(statusCode(light), 409);
  t.equal(statusCode(apiException), 409);
  t.equal(statusCode(watchRequest), 410);
  t.equal(statusCode(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), undefined, 'no answer: no status');
  t.equal(statusCode(undefined), undefined);
  t.equal(statusReason(light), 'AlreadyExists');
  t.equal(statusReason(apiException), 'Conflict');
  t.equal(statusReason(watchRequest), undefined);
});

t.test('retriable or permanent', async (t) => {
  const status = (code: number, reason = 'X') => new KubeError('GET', '/x', code, reason, 'm');
  for (const code of [429, 500, 503]) t.ok(isRetriable(status(code)), `${code}`);
  t.ok(isRetriable(status(409, 'Conflict')), 'a stale resourceVersion: read again');
  t.notOk(isRetriable(status(409, 'AlreadyExists')), 'the object is there');
  for (const code of [400, 401, 403, 404, 422]) t.notOk(isRetriable(status(code)), `${code}`);
  t.ok(isRetriable(new Error('socket hang up')), 'no answer at all');
});

t.test('a message from anything thrown', async (t) => {
  t.equal(errorMessage(new Error('boom')), 'boom');
  t.equal(errorMessage('text'), 'text');
  t.equal(errorMessage(42), '42');
});
