// Collections as APIM pages them: `{value, count, nextLink}` with `$top`/`$skip`, the nextLink an absolute URL
// carrying api-version and the next `$skip`, so the SDK's `…Next` calls follow it unchanged. `$filter` supports the
// `eq`/`ne`/`contains`/`startswith` forms over `name` and `properties/x` that tools use to look entities up; anything
// else is refused rather than silently ignored. The fields APIM documents per list (e.g. Api_ListByService: name,
// displayName, description, serviceUrl, path, isCurrent) are written bare in the REST reference but `properties/x` in
// practice (MicrosoftDocs/feedback #3217; the APIM developer portal's queries): both are read. String comparisons
// ignore case, as APIM compares names and paths elsewhere (resource names, path uniqueness, gateway routing);
// unverified for $filter itself: no source says whether `path eq 'a/B'` finds `a/b`.
import { detail, validationError } from './arm-errors.ts';
import type { ArmRequest } from './arm-request.ts';

export interface Page<T> {
  value: T[];
  count: number;
  nextLink?: string;
}

function intParam(req: ArmRequest, name: string, min: number): number | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) {
    throw validationError([detail(name, `'${name}' must be an integer of at least ${min}; got '${raw}'.`)]);
  }
  return Number(raw);
}

type Contract = { name?: unknown; properties?: unknown };

function fieldValue(item: Contract, field: string): unknown {
  if (field === 'name') return item.name;
  const m = /^properties\/(.+)$/.exec(field);
  const props = item.properties as Record<string, unknown> | undefined;
  if (m && props) return props[m[1]!];
  if (props && field in props) return props[field];
  return undefined;
}

function literal(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (/^'.*'$/s.test(raw)) return raw.slice(1, -1).replace(/''/g, "'");
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return undefined;
}

function compile(filter: string): (item: Contract) => boolean {
  // `and` between clauses, not inside a quoted literal (`path eq 'a and b'` is one clause).
  const clauses = filter.split(/\s+and\s+(?=(?:[^']*'[^']*')*[^']*$)/i);
  const tests = clauses.map((clause) => {
    const c = clause.trim();
    let m = /^([\w/]+)\s+(eq|ne)\s+(.+)$/i.exec(c);
    if (m) {
      const [, field, op, raw] = m;
      const want = literal(raw!.trim());
      if (want === undefined) throw new Error(clause);
      const eq = (v: unknown): boolean => (typeof v === 'string' && typeof want === 'string' ? v.toLowerCase() === want.toLowerCase() : v === want);
      return op!.toLowerCase() === 'eq' ? (i: Contract) => eq(fieldValue(i, field!)) : (i: Contract) => !eq(fieldValue(i, field!));
    }
    m = /^(contains|startswith|endswith)\(\s*([\w/]+)\s*,\s*'((?:[^']|'')*)'\s*\)$/i.exec(c);
    if (m) {
      const [, fn, field, rawNeedle] = m;
      const needle = rawNeedle!.replace(/''/g, "'").toLowerCase();
      return (i: Contract) => {
        const v = fieldValue(i, field!);
        if (typeof v !== 'string') return false;
        const s = v.toLowerCase();
        return fn!.toLowerCase() === 'contains' ? s.includes(needle) : fn!.toLowerCase() === 'startswith' ? s.startsWith(needle) : s.endsWith(needle);
      };
    }
    throw new Error(clause);
  });
  return (item) => tests.every((t) => t(item));
}

export function page<T extends Contract>(req: ArmRequest, listPath: string, items: T[], defaultPageSize: number): Page<T> {
  const top = intParam(req, '$top', 1);
  const skip = intParam(req, '$skip', 0) ?? 0;
  const filter = req.query.get('$filter');
  let all = items;
  if (filter !== null && filter.trim() !== '') {
    let test: (item: Contract) => boolean;
    try {
      test = compile(filter);
    } catch (err) {
      throw validationError([detail('$filter', `The emulator cannot evaluate the $filter clause '${(err as Error).message}'. Supported: field eq|ne literal, contains/startswith/endswith(field,'text'), joined with 'and'.`)]);
    }
    all = items.filter(test);
  }
  const size = top ?? defaultPageSize;
  const value = all.slice(skip, skip + size);
  const result: Page<T> = { value, count: all.length };
  if (skip + size < all.length) {
    const q = new URLSearchParams(req.query);
    q.set('$skip', String(skip + size));
    if (top !== undefined) q.set('$top', String(top));
    result.nextLink = `${req.serviceUrl}${listPath}?${q.toString().replace(/%24/g, '$')}`;
  }
  return result;
}
