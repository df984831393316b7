// Entity tags as APIM issues them: a quoted base64 rendering of an 8-byte version counter (`"AAAAAAAALYo="`).
// One counter for the whole service, so every write anywhere yields a tag never seen before; clients must treat the
// value as opaque, and the emulator's format only matters for looking real in logs.

export function formatEtag(version: number): string {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(version));
  return `"${buf.toString('base64')}"`;
}

function bare(tag: string): string {
  let t = tag.trim();
  if (t.startsWith('W/')) t = t.slice(2);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t;
}

export type IfMatchOutcome = 'absent' | 'match' | 'mismatch';

/**
 * Evaluates If-Match against the entity's current tag (undefined: the entity does not exist). `*` matches any
 * existing entity; a list matches if any member does. Quotes are optional because some clients strip them.
 */
export function evaluateIfMatch(header: string | undefined, current: string | undefined): IfMatchOutcome {
  if (header === undefined || header.trim() === '') return 'absent';
  if (current === undefined) return 'mismatch';
  const wanted = header.split(',').map(bare);
  if (wanted.includes('*')) return 'match';
  return wanted.includes(bare(current)) ? 'match' : 'mismatch';
}
