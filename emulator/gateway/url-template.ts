// An operation's URL template (`/pets/{petId}`, `/search?q={q}`, `/*`) as the gateway matches it against the part of
// the request path below the API's path. Template parameters take one whole path segment; `*` at the end takes the
// rest; query parts of the template (required query parameters APIM moved into it at import) must be present.
// Literal segments compare without regard to case (unverified: the emulator's import already treats templates that
// differ only in case as one signature, so routing does the same).

export interface TemplateMatch {
  /** Template parameter → value (path segments URL-decoded). */
  params: Record<string, string>;
  /** Higher is more specific: literal segments count most, parameters less, a trailing wildcard least. */
  specificity: number;
}

interface Segment {
  literal?: string;
  param?: string;
}

export interface CompiledTemplate {
  readonly template: string;
  /** `query` is called only for templates with query parts (most have none, and parsing costs). */
  match(pathSegments: string[], query: () => URLSearchParams): TemplateMatch | undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function compileTemplate(template: string): CompiledTemplate {
  const q = template.indexOf('?');
  const pathPart = q >= 0 ? template.slice(0, q) : template;
  const queryPart = q >= 0 ? template.slice(q + 1) : '';
  const raw = pathPart.split('/').filter((s) => s !== '');
  const wildcard = raw.length > 0 && raw[raw.length - 1] === '*';
  const segments: Segment[] = (wildcard ? raw.slice(0, -1) : raw).map((s) => {
    const m = /^\{([^}]+)\}$/.exec(s);
    return m ? { param: m[1]! } : { literal: decode(s).toLowerCase() };
  });
  const queryParams = queryPart
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const [name = '', value = ''] = p.split('=');
      const m = /^\{([^}]+)\}$/.exec(value);
      return { name, param: m ? m[1]! : undefined, literal: m ? undefined : value };
    });
  return {
    template,
    match(pathSegments, query) {
      if (wildcard ? pathSegments.length < segments.length : pathSegments.length !== segments.length) return undefined;
      const params: Record<string, string> = {};
      let specificity = 0;
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        const value = decode(pathSegments[i]!);
        if (seg.literal !== undefined) {
          if (seg.literal !== value.toLowerCase()) return undefined;
          specificity += 1000;
        } else {
          if (value === '') return undefined;
          params[seg.param!] = value;
          specificity += 10;
        }
      }
      const q = queryParams.length > 0 ? query() : undefined;
      for (const qp of queryParams) {
        const v = q!.get(qp.name);
        if (v === null) return undefined;
        if (qp.literal !== undefined && v !== qp.literal) return undefined;
        if (qp.param !== undefined) params[qp.param] = v;
        specificity += 1;
      }
      if (!wildcard) specificity += 1;
      return { params, specificity };
    },
  };
}

/** The request path below the API's path as segments (`/a/b/` → ['a', 'b'], empty segments dropped). */
export function pathSegments(relativePath: string): string[] {
  return relativePath.split('/').filter((s) => s !== '');
}
