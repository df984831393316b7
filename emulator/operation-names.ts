// How APIM names the operations it imports (learn.microsoft.com, "API import restrictions": normalization rules for
// operationId). Written independently of the project's core/ so the emulator can catch the executor's mistakes
// instead of sharing them.

const NAME_MAX = 76;
const SUFFIX_MAX = 999;

/** Lower-case, each run of non-alphanumerics becomes one dash, dashes trimmed, cut to 76 characters. */
export function normalizeOperationName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, NAME_MAX);
}

/** Without an operationId the name comes from method and URL template: `GET /foo/{bar}` → `get-foo-bar`. */
export function generatedOperationName(method: string, urlTemplate: string): string {
  return normalizeOperationName(`${method}-${urlTemplate}`);
}

/** Without summary or operationId the display name is `Get - /foo` (method capitalized as APIM shows it). */
export function generatedDisplayName(method: string, urlTemplate: string): string {
  const m = method.toLowerCase();
  return `${m.charAt(0).toUpperCase()}${m.slice(1)} - ${urlTemplate}`;
}

/**
 * Hands out unique names in document order: the first `x` stays `x`, later ones become `x-1`, `x-2`, … `x-999`
 * (the four characters kept free by the 76-character cut).
 */
export class OperationNamer {
  readonly #taken = new Set<string>();

  assign(base: string): string {
    if (!this.#taken.has(base)) {
      this.#taken.add(base);
      return base;
    }
    for (let i = 1; i <= SUFFIX_MAX; i++) {
      const candidate = `${base}-${i}`;
      if (!this.#taken.has(candidate)) {
        this.#taken.add(candidate);
        return candidate;
      }
    }
    throw new Error(`more than ${SUFFIX_MAX} operations normalize to the name '${base}'`);
  }
}
