// Which import formats the emulator understands and how their text becomes a document, with APIM's limits:
// OpenAPI 3 as YAML or JSON, Swagger 2 as JSON only, inline content up to 4 MB (links have no limit).
// YAML goes through js-yaml: on a 4 MB document it is ~6x faster than the `yaml` package, and the emulator must
// import such a document in well under a second.
import { load as loadYaml } from 'js-yaml';
import { ArmError, detail, validationError, validationMessage } from './arm-errors.ts';

export const INLINE_LIMIT_BYTES = 4 * 1024 * 1024;

export type DocumentKind = 'openapi' | 'swagger';

export interface ImportFormat {
  /** The format name as sent. */
  name: string;
  kind: DocumentKind;
  /** The value is a URL to fetch rather than the document itself. */
  link: boolean;
  /** Only JSON is accepted (openapi+json, swagger-json). */
  jsonOnly: boolean;
}

const FORMATS: Record<string, ImportFormat> = {
  openapi: { name: 'openapi', kind: 'openapi', link: false, jsonOnly: false },
  'openapi+json': { name: 'openapi+json', kind: 'openapi', link: false, jsonOnly: true },
  'openapi-link': { name: 'openapi-link', kind: 'openapi', link: true, jsonOnly: false },
  'openapi+json-link': { name: 'openapi+json-link', kind: 'openapi', link: true, jsonOnly: true },
  'swagger-json': { name: 'swagger-json', kind: 'swagger', link: false, jsonOnly: true },
  'swagger-link-json': { name: 'swagger-link-json', kind: 'swagger', link: true, jsonOnly: true },
  // The REST spec's own example imports with "swagger-link"; the service takes it as swagger-link-json.
  'swagger-link': { name: 'swagger-link', kind: 'swagger', link: true, jsonOnly: true },
};

/** Formats of the real service that the emulator does not model: refused plainly rather than faked. */
const UNMODELLED = ['wadl-xml', 'wadl-link-json', 'wsdl', 'wsdl-link', 'graphql-link', 'odata', 'odata-link', 'grpc', 'grpc-link'];

export function importFormat(format: unknown): ImportFormat {
  if (typeof format !== 'string') throw validationError([detail('format', `'format' must be a string.`)]);
  const known = FORMATS[format];
  if (known) return known;
  if (UNMODELLED.includes(format)) {
    throw validationError([detail('format', `Import format '${format}' is valid for API Management but not modelled by the emulator; use one of ${Object.keys(FORMATS).join(', ')}.`)]);
  }
  throw validationError([detail('format', `'${format}' is not a valid value for 'format'. Valid values: ${[...Object.keys(FORMATS), ...UNMODELLED].join(', ')}.`)]);
}

/** The inline limit is checked when the PUT arrives (unverified wording), everything else on the poll. */
export function checkInlineSize(value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > INLINE_LIMIT_BYTES) {
    throw validationError([
      detail('value', `The inline API definition is ${bytes} bytes; inline imports are limited to 4 MB (${INLINE_LIMIT_BYTES} bytes). Import larger documents through a link format.`),
    ]);
  }
}

function parsingError(reason: string): ArmError {
  return validationMessage(`Parsing error(s): ${reason}`);
}

/** Parses document text for a format; JSON first (it is also YAML, and far faster), YAML where allowed. */
export function parseDocumentText(text: string, format: ImportFormat): Record<string, unknown> {
  const trimmed = text.trimStart();
  let doc: unknown;
  if (trimmed.startsWith('{') || format.jsonOnly) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      if (format.jsonOnly) {
        const which = format.kind === 'swagger' ? 'Swagger 2.0 documents are accepted as JSON only' : `format '${format.name}' takes JSON`;
        throw parsingError(`The document is not valid JSON (${which}): ${(err as Error).message}`);
      }
    }
  }
  if (doc === undefined) {
    try {
      doc = loadYaml(text);
    } catch (err) {
      throw parsingError(`The document is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw parsingError('The document root must be an object.');
  }
  const obj = doc as Record<string, unknown>;
  const openapi = obj['openapi'];
  const swagger = obj['swagger'];
  if (format.kind === 'openapi') {
    if (typeof openapi !== 'string' || !/^3\.[01]\.\d+$/.test(openapi)) {
      const got = swagger !== undefined ? `a Swagger ${String(swagger)} document` : openapi !== undefined ? `openapi '${String(openapi)}'` : 'no openapi field';
      throw parsingError(`The input OpenAPI file is not valid for the OpenAPI specification 3.0.x/3.1.x: found ${got}. Use format 'swagger-json' for Swagger 2.0.`);
    }
  } else if (swagger !== '2.0') {
    const got = openapi !== undefined ? `an OpenAPI ${String(openapi)} document` : `swagger '${String(swagger)}'`;
    throw parsingError(`The input is not a valid Swagger 2.0 document: found ${got}. Use format 'openapi' for OpenAPI 3.`);
  }
  const paths = obj['paths'];
  if (paths !== undefined && (paths === null || typeof paths !== 'object' || Array.isArray(paths))) {
    throw parsingError(`'paths' must be an object.`);
  }
  return obj;
}
