// Products and tags are linked to an API by PUTs without a body, each answering with the linked entity's contract,
// and the links show in the API's own collections.
import type { Check } from '../check.ts';
import { differs, pass } from '../check.ts';
import { describeError } from '../long-running.ts';
import { listAll } from '../run-context.ts';
import { requireBaseApi } from './base-api.ts';

const EXAMPLES = 'https://github.com/Azure/azure-rest-api-specs/blob/main/specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/2024-05-01/examples';

export const linkChecks: Check[] = [
  {
    id: 'links.product-api',
    expected: 'PUT products/{p}/apis/{a} (no body) answers 200/201 with the API contract; GET apis/{a}/products lists the product',
    source: `${EXAMPLES}/ApiManagementCreateProductApi.json, ${EXAMPLES}/ApiManagementListApiProducts.json`,
    async run(ctx) {
      const { apiId } = await requireBaseApi(ctx);
      const productId = ctx.id('product');
      ctx.track('product', productId);
      const product = await ctx.write('PUT', `/products/${productId}`, {
        body: { properties: { displayName: productId, description: 'exposedapi-apim conformance', subscriptionRequired: false, state: 'notPublished' } },
      });
      if (product.status !== 200 && product.status !== 201) throw new Error(`creating product ${productId} answered ${product.status} ${describeError(product)}`);
      const link = await ctx.write('PUT', `/products/${productId}/apis/${apiId}`);
      const listed = (await listAll(ctx.target, `/apis/${apiId}/products`)).map((p) => p.name);
      const observed = `link ${link.status}${link.status >= 400 ? ` ${describeError(link)}` : `, body name ${link.json?.name}`}; apis/{a}/products: [${listed.join(', ')}]`;
      const ok = (link.status === 200 || link.status === 201) && String(link.json?.name).toLowerCase() === apiId.toLowerCase() && listed.some((n) => n.toLowerCase() === productId.toLowerCase());
      return ok ? pass(observed) : differs(observed);
    },
  },
  {
    id: 'links.tag-api',
    expected: 'PUT apis/{a}/tags/{t} (no body) answers 200/201 with the tag contract; GET apis/{a}/tags lists the tag',
    source: `${EXAMPLES}/ApiManagementCreateApiTag.json, ${EXAMPLES}/ApiManagementListApiTags.json`,
    async run(ctx) {
      const { apiId } = await requireBaseApi(ctx);
      const tagId = ctx.id('tag');
      ctx.track('tag', tagId);
      const tag = await ctx.write('PUT', `/tags/${tagId}`, { body: { properties: { displayName: tagId } } });
      if (tag.status !== 200 && tag.status !== 201) throw new Error(`creating tag ${tagId} answered ${tag.status} ${describeError(tag)}`);
      const link = await ctx.write('PUT', `/apis/${apiId}/tags/${tagId}`);
      const listed = (await listAll(ctx.target, `/apis/${apiId}/tags`)).map((t) => t.name);
      const observed = `link ${link.status}${link.status >= 400 ? ` ${describeError(link)}` : `, body name ${link.json?.name}`}; apis/{a}/tags: [${listed.join(', ')}]`;
      const ok = (link.status === 200 || link.status === 201) && String(link.json?.name).toLowerCase() === tagId.toLowerCase() && listed.some((n) => n.toLowerCase() === tagId.toLowerCase());
      return ok ? pass(observed) : differs(observed);
    },
  },
];
