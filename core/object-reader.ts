// Reads fields of untrusted JSON (an admission request, a YAML file) with their JSON path, turning wrong types into
// field errors instead of exceptions, so one pass can report every problem.
import { invalid, required, type FieldError } from './field-error.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ObjectReader {
  readonly errors: FieldError[];
  readonly obj: JsonObject;
  readonly path: string;

  constructor(obj: JsonObject, path: string, errors: FieldError[]) {
    this.obj = obj;
    this.path = path;
    this.errors = errors;
  }

  field(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  /** A nested object; absent or wrongly typed gives an empty reader (the type error is recorded). */
  object(key: string): ObjectReader {
    const v = this.obj[key];
    if (v === undefined || v === null) return new ObjectReader({}, this.field(key), this.errors);
    if (!isObject(v)) {
      this.errors.push(invalid(this.field(key), v, 'must be an object'));
      return new ObjectReader({}, this.field(key), this.errors);
    }
    return new ObjectReader(v, this.field(key), this.errors);
  }

  string(key: string, opts: { required?: string } = {}): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (opts.required !== undefined) this.errors.push(required(this.field(key), opts.required));
      return undefined;
    }
    if (typeof v !== 'string') {
      this.errors.push(invalid(this.field(key), v, 'must be a string'));
      return undefined;
    }
    if (opts.required !== undefined && v.trim() === '') {
      this.errors.push(required(this.field(key), opts.required));
      return undefined;
    }
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.errors.push(invalid(this.field(key), v, 'must be a boolean (true or false)'));
      return fallback;
    }
    return v;
  }

  integer(key: string, opts: { required?: string } = {}): number | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (opts.required !== undefined) this.errors.push(required(this.field(key), opts.required));
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.errors.push(invalid(this.field(key), v, 'must be an integer'));
      return undefined;
    }
    return v;
  }

  stringArray(key: string): string[] {
    const v = this.obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.errors.push(invalid(this.field(key), v, 'must be a list of strings'));
      return [];
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string') this.errors.push(invalid(`${this.field(key)}[${i}]`, item, 'must be a string'));
      else out.push(item);
    });
    return out;
  }

  /** Keys present that the caller does not know: reported so a typo (`prodcuts`) is not silently ignored. */
  rejectUnknown(known: readonly string[]): void {
    for (const key of Object.keys(this.obj)) {
      if (!known.includes(key)) {
        this.errors.push({
          field: this.field(key),
          reason: 'Forbidden',
          detail: `unknown field; known fields here: ${known.join(', ')}`,
        });
      }
    }
  }
}
