// The OpenAPI documents the checks import. Small (an import of a few KB takes ~30 s on the real service), with no
// `tags` (an import creates service-level tags from them, which would be objects without this run's prefix) and
// servers only on the reserved `.invalid` domain, which never resolves, so APIM has nothing real to call.

type Operation = { operationId?: string; summary?: string };

function document(title: string, paths: Record<string, Record<string, Operation>>, server?: string): string {
  const filled: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(paths)) {
    filled[path] = {};
    for (const [method, op] of Object.entries(methods)) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      filled[path][method] = { ...op, ...(params.length > 0 ? { parameters: params } : {}), responses: { '200': { description: 'OK' } } };
    }
  }
  return JSON.stringify({
    openapi: '3.0.3',
    info: { title, version: '1.0.0', description: 'Created by exposedapi-apim conformance; deleted at the end of the run.' },
    ...(server ? { servers: [{ url: server }] } : {}),
    paths: filled,
  });
}

/** A 90-character operationId: APIM cuts names to 76 characters. */
export const LONG_OPERATION_ID = `x${'LongOperationName'.repeat(5)}Tail`;

/**
 * The operations of the base API and the names APIM gives them (docs "API import restrictions": lower-case, runs of
 * other characters become one dash, cut to 76, a numeric suffix on collision; without an operationId the name comes
 * from method and URL template).
 */
export const NAMING_CASES: { method: string; path: string; operationId?: string; name: string }[] = [
  { method: 'get', path: '/widgets', operationId: 'listWidgets', name: 'listwidgets' },
  { method: 'get', path: '/widgets/{widgetId}', operationId: 'Get_Widget.ById', name: 'get-widget-byid' },
  { method: 'delete', path: '/widgets/{widgetId}', operationId: '--delete__Widget--NOW!', name: 'delete-widget-now' },
  { method: 'post', path: '/widgets', operationId: LONG_OPERATION_ID, name: LONG_OPERATION_ID.toLowerCase().slice(0, 76) },
  { method: 'put', path: '/widgets/{widgetId}', operationId: 'put-widget', name: 'put-widget' },
  { method: 'put', path: '/gadgets/{gadgetId}', operationId: 'put_widget', name: 'put-widget-1' },
  { method: 'get', path: '/gadgets/{gadgetId}', name: 'get-gadgets-gadgetid' },
];

export function baseDocument(): string {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const c of NAMING_CASES) (paths[c.path] ??= {})[c.method] = c.operationId !== undefined ? { operationId: c.operationId } : {};
  return document('Conformance base API', paths, 'https://base.conformance.invalid/v1');
}

/** One operation and no servers: the API's serviceUrl can only come from the request. */
export function plainDocument(title: string): string {
  return document(title, { '/items': { get: { operationId: 'listItems' } } });
}

/** Two operations APIM counts as one signature: same method, same template but for a parameter's name. */
export function duplicateSignatureDocument(): string {
  return document('Conformance duplicate signature API', {
    '/things/{thingId}': { get: { operationId: 'getThingById' } },
    '/things/{thingKey}': { get: { operationId: 'getThingByKey' } },
  });
}
