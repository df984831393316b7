// The safety rule of a run against a real service: it writes only to objects whose ids carry its own prefix, so it
// can never change or delete anything it did not create. Pure, so the rule is tested on its own.

/** Every run's prefix: `conformance-` and 8 random hex digits, then `-`. Anything else is never deleted. */
export const RUN_PREFIX = /^conformance-[0-9a-f]{8}-/i;

export function newRunPrefix(random: () => number = Math.random): string {
  let hex = '';
  for (let i = 0; i < 8; i++) hex += Math.floor(random() * 16).toString(16);
  return `conformance-${hex}-`;
}

/** True for an id an earlier (or this) run created: it starts with a run prefix. */
export function isRunObject(id: string): boolean {
  return RUN_PREFIX.test(id);
}

/**
 * Why a write to `path` (below the service, e.g. `/apis/x;rev=2/policies/policy?format=rawxml`) is not allowed, or
 * undefined when it is: every id segment must start with `prefix` (case-insensitively, as ARM names compare), except
 * the fixed policy id `policy`. A write to the service itself, or to a collection, is never allowed.
 */
export function writeRefusal(path: string, ownsId: (id: string) => boolean): string | undefined {
  const segments = path.split('?')[0]!.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  if (segments.length === 0 || segments.length % 2 !== 0) return `a write to '${path}' does not name one object`;
  for (let i = 0; i < segments.length; i += 2) {
    const type = segments[i]!.toLowerCase();
    const id = segments[i + 1]!;
    if (type === 'policies' && id === 'policy' && i > 0) continue;
    if (!ownsId(id.split(';')[0]!)) return `'${id}' in '${path}' is not an object of this run`;
  }
  return undefined;
}
