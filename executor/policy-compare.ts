// Whether the policy stored in APIM is the one the executor would write. APIM re-formats what it stores (indentation,
// line ends, `<x></x>` vs `<x />`, expression quotes un-escaped in rawxml), so both sides are reduced to a canonical
// form first. The reduction only removes differences that carry no meaning; any real change (an attribute, a value,
// an element) still compares unequal and is written. A difference the reduction misses costs one extra PUT, never a
// skipped change. Pure.

const ENTITIES: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };

export function canonicalPolicy(xml: string): string {
  return (
    xml
      .replace(/\r\n?/g, '\n')
      .replace(/<!--[\s\S]*?-->/g, '')
      // Whitespace between tags is formatting.
      .replace(/>\s+</g, '><')
      .trim()
      // `<x a="1"></x>` is `<x a="1" />`.
      .replace(/<([A-Za-z][\w.-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*><\/\1>/g, '<$1$2/>')
      .replace(/\s*\/>/g, '/>')
      // Entities as characters (rawxml returns expressions unescaped; quotes inside them are then literal).
      .replace(/&(quot|apos|lt|gt|amp);/g, (_, e: string) => ENTITIES[e]!)
      .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
      .replace(/&#([0-9]+);/g, (_, d: string) => String.fromCodePoint(parseInt(d, 10)))
      .replace(/\s+/g, ' ')
  );
}

export function samePolicy(stored: string | undefined, desired: string): boolean {
  return stored !== undefined && canonicalPolicy(stored) === canonicalPolicy(desired);
}
