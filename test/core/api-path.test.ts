// core/rules/api-path.ts: a path is accepted in one spelling only, so two strings that a gateway or backend read as
// one path can never both be claimed. Each refusal names the field, the value and the fix.
import t from 'tap';
import { renderFieldError } from '../../core/field-error.ts';
import { checkApiPath, checkUrlPath, pathClaimKey } from '../../core/rules/api-path.ts';

/** `errors`: how many field errors; `text`: substrings of their rendering (value and fix). */
const cases: { path: string; errors: number; text?: string[] }[] = [
  // accepted as written
  { path: '/payments/v1', errors: 0 },
  { path: '/r1-productcatalog/tmf-api/productCatalogManagement/v4', errors: 0 },
  { path: '/a.b/v1.0/x_y~z', errors: 0 },
  { path: "/sub-delims/!$&'()*+,=:@", errors: 0 },
  // percent-encoding: the decoded path is offered when it is a valid path
  {
    path: '/%70ayments/v1',
    errors: 1, text: ['spec.path: Invalid value: "/%70ayments/v1": must not contain percent-encoding ("%70"): APIM and backends decode it, so two different strings would name one path; write the characters themselves: "/payments/v1"'],
  },
  {
    path: '/team-b/%2e%2e/payments/v1',
    errors: 1, text: ['spec.path: Invalid value: "/team-b/%2e%2e/payments/v1": must not contain percent-encoding ("%2e"): APIM and backends decode it, so two different strings would name one path (it decodes to "/team-b/../payments/v1", which is not a valid path either); write the characters themselves, using letters, digits and - . _ ~'],
  },
  { path: '/team-b/%2E%2E/payments', errors: 1, text: ['("%2E")', 'decodes to "/team-b/../payments"'] },
  { path: '/a%2fb', errors: 1, text: ['write the characters themselves: "/a/b"'] },
  { path: '/a%20b', errors: 1, text: ['decodes to "/a b", which is not a valid path either'] },
  { path: '/a%zz', errors: 1, text: ['must not contain percent-encoding ("%")'] },
  { path: '/a%', errors: 1, text: ['must not contain percent-encoding ("%")'] },
  // path parameters and trailing dots
  { path: '/payments;v=2/v1', errors: 1, text: ['must not contain ";": servers and proxies read it as the start of path parameters'] },
  { path: '/payments./v1', errors: 1, text: ['segment "payments." must not end with "." (some URL parsers drop trailing dots, so it would route like "payments"); remove the dot'] },
  { path: '/payments/v1...', errors: 1, text: ['segment "v1..." must not end with "."'] },
  // dot segments, empty segments, other characters: each reported once
  { path: '/a/../b', errors: 1, text: ['must not contain "." or ".." segments'] },
  { path: '/a/./b', errors: 1, text: ['must not contain "." or ".." segments'] },
  { path: '/a//b', errors: 1, text: ['must not contain empty segments'] },
  { path: '/a b/<c>', errors: 1, text: ['segments "a b", "<c>" have characters that are not URL-safe; use letters, digits and - . _ ~, e.g. "/a-b/c"'] },
  { path: '/a b/c', errors: 1, text: ['segment "a b" has characters that are not URL-safe; use letters, digits and - . _ ~, e.g. "/a-b/c"'] },
  // every problem at once, even without the leading slash, each example a valid path
  {
    path: 'api/bad path/',
    errors: 3,
    text: ['must start with "/", e.g. "/api/bad-path"', 'must not end with "/", e.g. "/api/bad-path"', 'segment "bad path" has characters that are not URL-safe'],
  },
  { path: 'api', errors: 1, text: ['spec.path: Invalid value: "api": must start with "/", e.g. "/api"'] },
  { path: 'api/v1/', errors: 2, text: ['e.g. "/api/v1"'] },
  { path: '/api//v1/', errors: 2, text: ['must not contain empty segments ("//"), e.g. "/api/v1"'] },
  { path: '/a\\b', errors: 1, text: ['not URL-safe'] },
  { path: '/ümlaut', errors: 1, text: ['not URL-safe'] },
  { path: '/a%41;b', errors: 2, text: ['percent-encoding', 'must not contain ";"'] },
];

t.test('canonical paths: one spelling per path', async (t) => {
  for (const c of cases) {
    const got = checkApiPath(c.path).map(renderFieldError);
    t.equal(got.length, c.errors, `${c.path}: ${c.errors} error(s)${got.length ? `: ${got.join(' | ')}` : ''}`);
    for (const text of c.text ?? []) t.match(got.join('\n'), text, `${c.path}: ${text}`);
  }
});

t.test('every example a message gives is itself a valid path', async (t) => {
  const bad = ['api/bad path/', 'bad path', '/a b/<c>', '//a//', 'a/../b/', 'a./b.', '/%2e%2e/ü', '/;/x;y', '/<>/', '/.', 'x'.repeat(500) + ' y', ...cases.map((c) => c.path)];
  for (const path of bad) {
    for (const message of checkApiPath(path).map(renderFieldError)) {
      for (const [, example] of message.matchAll(/(?:e\.g\.|themselves:) "([^"]*)"/g)) {
        t.same(checkApiPath(example!).map(renderFieldError), [], `${JSON.stringify(path)} suggests ${JSON.stringify(example)}`);
      }
    }
  }
});

t.test('spec.developerUI follows the same rules, named as its own field', async (t) => {
  t.match(checkUrlPath('spec.developerUI', '/%70ortal').map(renderFieldError), ['spec.developerUI: Invalid value: "/%70ortal": must not contain percent-encoding']);
});

t.test('the claim key ignores case and the leading slash, never anything else', async (t) => {
  t.equal(pathClaimKey('/Payments/V1'), 'payments/v1');
  t.equal(pathClaimKey('/payments/v1'), pathClaimKey('/PAYMENTS/v1'));
  t.not(pathClaimKey('/payments/v1'), pathClaimKey('/payments/v10'));
});
