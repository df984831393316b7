// The policy document inside the body of a policy GET. APIM answers in one of two shapes, and the executor must read
// both: the ARM envelope `{"properties": {"format", "value"}}` (application/json), or the bare policy document
// (application/vnd.ms-azure-apim.policy+xml or …policy.raw+xml). The SDK asks for JSON or either XML media type
// (its Accept header), and bare XML answers are reported in azure-sdk-for-js #31566 and handled by Azure/apiops-cli.
// The shape is decided by the content type when it says, by the first character otherwise. Pure.

export type PolicyBody = { ok: true; value: string | undefined; shape: 'json' | 'xml' } | { ok: false; problem: string };

const XML_TYPE = /^\s*(application|text)\/([\w.+-]*\+)?xml\b|^\s*application\/vnd\.ms-azure-apim\.policy(\.raw)?\+xml\b/i;
const JSON_TYPE = /^\s*application\/([\w.+-]*\+)?json\b/i;

export function policyValueOf(text: string, contentType?: string): PolicyBody {
  const body = text.replace(/^\uFEFF/, '');
  const start = body.trimStart()[0];
  const shape = contentType && XML_TYPE.test(contentType) ? 'xml' : contentType && JSON_TYPE.test(contentType) ? 'json' : start === '<' ? 'xml' : start === '{' ? 'json' : undefined;
  if (shape === 'xml') {
    if (start !== '<') return { ok: false, problem: `the body is declared ${contentType} but does not start with '<'` };
    return { ok: true, value: body.trim(), shape };
  }
  if (shape === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      return { ok: false, problem: `the body is not JSON (${(e as Error).message})` };
    }
    const value = (parsed as { properties?: { value?: unknown } } | null)?.properties?.value;
    if (value !== undefined && value !== null && typeof value !== 'string') return { ok: false, problem: 'properties.value is not a string' };
    return { ok: true, value: typeof value === 'string' ? value : undefined, shape };
  }
  return { ok: false, problem: `neither a JSON envelope nor an XML document (content type ${contentType ?? 'absent'}, starts with ${JSON.stringify(body.slice(0, 20))})` };
}
