// Field errors in the shape of Kubernetes apimachinery's field.Error: every rule returns a list, the caller renders the
// whole list once, and kubectl users see the form they already know.

export type FieldErrorReason = 'Required' | 'Invalid' | 'NotSupported' | 'TooLong' | 'Duplicate' | 'Forbidden';

export interface FieldError {
  /** JSON path in kubectl's dotted form, e.g. `spec.CORS.allowOrigins` or `spec.apim.products[1]`. */
  field: string;
  reason: FieldErrorReason;
  /** The offending value; omitted for Required. */
  value?: unknown;
  /** Why it is wrong and what would be valid. */
  detail: string;
  /** For NotSupported: the values that would be accepted. */
  supported?: readonly string[];
}

export const required = (field: string, detail: string): FieldError => ({ field, reason: 'Required', detail });
export const invalid = (field: string, value: unknown, detail: string): FieldError => ({ field, reason: 'Invalid', value, detail });
export const notSupported = (field: string, value: unknown, supported: readonly string[], detail = ''): FieldError => ({
  field,
  reason: 'NotSupported',
  value,
  supported,
  detail,
});
export const tooLong = (field: string, value: unknown, max: number, unit = 'characters'): FieldError => ({
  field,
  reason: 'TooLong',
  value,
  detail: `may not be more than ${max} ${unit}`,
});
export const duplicate = (field: string, value: unknown, detail: string): FieldError => ({ field, reason: 'Duplicate', value, detail });
export const forbidden = (field: string, detail: string, value?: unknown): FieldError => ({ field, reason: 'Forbidden', value, detail });

const MAX_VALUE_CHARS = 120;

/** Quotes a value the way apimachinery does (%q for strings, %#v-ish otherwise), shortened for readability. */
export function renderValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'null';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  if (text.length > MAX_VALUE_CHARS) text = `${text.slice(0, MAX_VALUE_CHARS)}…(${text.length} characters)`;
  return text;
}

/** One error in kubectl's form: `spec.path: Invalid value: "api": must start with "/"`. */
export function renderFieldError(e: FieldError): string {
  switch (e.reason) {
    case 'Required':
      return `${e.field}: Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'Invalid':
      return `${e.field}: Invalid value: ${renderValue(e.value)}: ${e.detail}`;
    case 'NotSupported': {
      const supported = (e.supported ?? []).map((s) => JSON.stringify(s)).join(', ');
      return `${e.field}: Unsupported value: ${renderValue(e.value)}: supported values: ${supported}${e.detail ? ` (${e.detail})` : ''}`;
    }
    case 'TooLong':
      return `${e.field}: Too long: ${e.detail}`;
    case 'Duplicate':
      return `${e.field}: Duplicate value: ${renderValue(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'Forbidden':
      return `${e.field}: Forbidden: ${e.detail}`;
  }
}

/** The aggregated message kubectl prints: `ExposedAPI "x" is invalid: [a, b]`. */
export function renderInvalid(kind: string, name: string, errors: readonly FieldError[]): string {
  const parts = errors.map(renderFieldError);
  const body = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  return `${kind} "${name}" is invalid: ${body}`;
}
