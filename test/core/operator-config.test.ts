// Webhook settings read from the environment: DOCUMENT_CHECKERS (the document checker pool's size).
import t from 'tap';
import { readWebhookConfig } from '../../core/operator-config.ts';

t.test('DOCUMENT_CHECKERS', async (t) => {
  const valid: [string | undefined, number][] = [
    [undefined, 0],
    ['', 0],
    [' ', 0],
    ['0', 0],
    ['1', 1],
    [' 3 ', 3],
    ['16', 16],
  ];
  for (const [raw, n] of valid) {
    t.match(readWebhookConfig(raw === undefined ? {} : { DOCUMENT_CHECKERS: raw }), { ok: true, config: { documentCheckers: n } }, `${JSON.stringify(raw)} → ${n}`);
  }
  for (const raw of ['17', '-1', '1.5', 'two', 'auto']) {
    t.same(readWebhookConfig({ DOCUMENT_CHECKERS: raw }), {
      ok: false,
      errors: [`DOCUMENT_CHECKERS=${JSON.stringify(raw)} is invalid: must be a whole number from 1 to 16 (checker processes at most), or empty or 0 for one per usable CPU up to 4`],
    }, `${raw} is refused with the variable, the value and the fix`);
  }
});
