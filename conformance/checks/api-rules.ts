// Rules the service applies to APIs as a whole: paths are unique outside a version set, a missing API is a 404, and
// imported operations are named from their operationIds.
import type { Check } from '../check.ts';
import { differs, pass } from '../check.ts';
import { NAMING_CASES } from '../documents.ts';
import { describeError } from '../long-running.ts';
import { listAll } from '../run-context.ts';
import { requireBaseApi } from './base-api.ts';

export const apiRuleChecks: Check[] = [
  {
    id: 'api.path-collision',
    expected: "A second API on a taken path is refused: 400 ValidationError, target 'path', \"Cannot create API 'x' with the same Path 'p' as API 'y' …\"",
    source: 'https://github.com/Azure/azure-powershell/issues/11027, https://github.com/Azure/apiops/issues/712',
    async run(ctx) {
      const base = await requireBaseApi(ctx);
      const apiId = ctx.id('collide');
      ctx.track('api', apiId);
      const res = await ctx.write('PUT', `/apis/${apiId}`, { body: { properties: { displayName: apiId, path: base.path, protocols: ['https'] } } });
      const details: { target?: string; message?: string }[] = res.json?.error?.details ?? [];
      const hit = details.find((d) => d.target === 'path' && /Cannot create API '.+' with the same Path '.+' as API '.+'/.test(d.message ?? ''));
      const observed = `${res.status} ${describeError(res)}`;
      return res.status === 400 && res.json?.error?.code === 'ValidationError' && hit ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'api.not-found',
    expected: "A GET of a missing API answers 404 ResourceNotFound \"Api not found.\"",
    source: 'https://github.com/hashicorp/terraform-provider-azurerm/issues/23322',
    async run(ctx) {
      const res = await ctx.read(`/apis/${ctx.id('missing')}`);
      const observed = `${res.status} ${describeError(res)}`;
      return res.status === 404 && res.json?.error?.code === 'ResourceNotFound' && res.json?.error?.message === 'Api not found.' ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'import.operation-names',
    expected: 'Operation names come from operationId: lower-cased, other characters → one "-", trimmed, cut to 76, "-1" on a collision; without one, from method and URL template',
    source: 'https://learn.microsoft.com/azure/api-management/api-management-api-import-restrictions',
    async run(ctx) {
      const base = await requireBaseApi(ctx);
      const ops = await listAll(ctx.target, `/apis/${base.apiId}/operations`);
      const bySignature = new Map<string, string>();
      for (const op of ops) {
        const p = op.properties as { method?: string; urlTemplate?: string } | undefined;
        bySignature.set(`${String(p?.method).toUpperCase()} ${p?.urlTemplate}`, op.name);
      }
      const wrong: string[] = [];
      for (const c of NAMING_CASES) {
        const got = bySignature.get(`${c.method.toUpperCase()} ${c.path}`);
        if (got !== c.name) wrong.push(`${c.operationId ?? `(no operationId) ${c.method.toUpperCase()} ${c.path}`} → ${got ?? 'missing'}, expected ${c.name}`);
      }
      if (wrong.length > 0) return differs(wrong.join('; '));
      return pass(`${ops.length} operations named as expected (e.g. Get_Widget.ById → get-widget-byid, put_widget → put-widget-1)`);
    },
  },
];
