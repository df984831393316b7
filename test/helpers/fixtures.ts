// Builders for ExposedAPI objects and paths to the shared reference data (read, never copied, per the project rules).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REFERENCE_DIR = fileURLToPath(new URL('../../../shared/reference/', import.meta.url));
export const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));

export function referenceText(relative: string): string {
  return readFileSync(REFERENCE_DIR + relative, 'utf8');
}

export const TMF620_V4 = 'specs/TMF620-ProductCatalog-v4.0.0.swagger.json';
export const TMF620_V5 = 'specs/TMF620-Product_Catalog_Management-v5.0.0.oas.yaml';
export const TMF672_V4 = 'specs/TMF672-UserRolePermission-v4.0.0.swagger.json';
export const TMF671_V4 = 'specs/TMF671-Promotion-v4.0.0.swagger.json';

type Obj = Record<string, any>;

function merge(base: Obj, patch: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' && !Array.isArray(base[k])) out[k] = merge(base[k], v);
    else out[k] = v;
  }
  return out;
}

/** A valid v1 ExposedAPI (the ODA productcatalog core API), with a deep-merged patch (undefined deletes a key). */
export function exposedApi(patch: Obj = {}): Obj {
  const base: Obj = {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name: 'ctk-productcatalogmanagement-productcatalogmanagement-v4', namespace: 'components' },
    spec: {
      name: 'productcatalogmanagement',
      apiType: 'openapi',
      implementation: 'ctk-prodcatapi',
      path: '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4',
      port: 8080,
      developerUI: '/ctk-productcatalogmanagement/tmf-api/productCatalogManagement/v4/docs',
      specification: { url: 'https://specs.example.com/TMF620-ProductCatalog-v4.0.0.swagger.json', version: 'v4' },
      segment: 'coreFunction',
    },
  };
  return merge(base, patch);
}

/** A small valid Swagger 2.0 document with the given operations ([method, path, operationId?]). */
export function swagger2(ops: [string, string, string?][] = [['get', '/pets', 'listPets']]): Obj {
  const paths: Obj = {};
  for (const [method, path, id] of ops) {
    paths[path] ??= {};
    paths[path][method] = { ...(id ? { operationId: id } : {}), responses: { '200': { description: 'ok' } } };
  }
  return { swagger: '2.0', info: { title: 'Pets', version: '1.0' }, paths };
}

export function openapi3(ops: [string, string, string?][] = [['get', '/pets', 'listPets']], version = '3.0.3'): Obj {
  const paths: Obj = {};
  for (const [method, path, id] of ops) {
    paths[path] ??= {};
    paths[path][method] = { ...(id ? { operationId: id } : {}), responses: { '200': { description: 'ok' } } };
  }
  return { openapi: version, info: { title: 'Pets', version: '1.0' }, paths };
}

/** A valid Swagger 2.0 document of about `targetChars` characters: one small GET per path, as many paths as it takes. */
export function manyPathsDocument(targetChars: number): string {
  const paths: Record<string, unknown> = {};
  let size = 0;
  for (let i = 0; size < targetChars; i++) {
    const item = { get: { operationId: `getR${i}`, parameters: [{ name: 'q', in: 'query', type: 'string' }], responses: { '200': { description: 'ok' } } } };
    paths[`/r${i}`] = item;
    size += JSON.stringify(item).length + 10;
  }
  return JSON.stringify({ swagger: '2.0', info: { title: 'big', version: '1' }, paths });
}
