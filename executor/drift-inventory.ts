// What the verify run reads of APIM, in bulk (docs/drift.md): every API with its settings and mark from the paged API
// list, every API's tags from one paged apisByTags list, every product's APIs from one paged list per product. Only
// the policy costs a read per API (APIM has no bulk read of API policies), and only for APIs proven to be ours. Reads
// only: nothing here writes to APIM.
import type { Apim } from './apim-client.ts';
import type { ApiContract } from './apim-operations.ts';

export interface ApimInventory {
  /** By lower-cased API id (APIM compares ids case-insensitively). */
  apis: Map<string, ApiContract>;
  tags: Map<string, string[]>;
  products: Map<string, string[]>;
  /** Pages and per-product lists read. */
  listReads: number;
}

/** The last segment of an id such as `/apis/x` or a full resource id. */
export function lastSegment(id: string | undefined): string | undefined {
  const seg = id?.split('/').filter(Boolean).pop();
  return seg ? decodeURIComponent(seg) : undefined;
}

function push(map: Map<string, string[]>, apiId: string, value: string): void {
  const k = apiId.toLowerCase();
  const list = map.get(k);
  if (list) list.push(value);
  else map.set(k, [value]);
}

/** Runs `fn` over `items`, at most `limit` at a time (the ARM pacer spaces them further when the bucket runs low). */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function readInventory(apim: Apim, concurrency: number): Promise<ApimInventory> {
  const { client, serviceName } = apim;
  const [apiList, tagLinks, productList] = await Promise.all([
    apim.call(`listing the APIs of APIM service '${serviceName}'`, () => client.listApis()),
    apim.call(`listing the API-tag links of APIM service '${serviceName}'`, () => client.listApisByTags()),
    apim.call(`listing the products of APIM service '${serviceName}'`, () => client.listProducts()),
  ]);
  const inventory: ApimInventory = { apis: new Map(), tags: new Map(), products: new Map(), listReads: 3 };
  for (const api of apiList) if (api.name) inventory.apis.set(api.name.toLowerCase(), api);
  for (const link of tagLinks) {
    const apiId = lastSegment(link.api?.id);
    const tagId = lastSegment(link.tag?.id);
    if (apiId && tagId) push(inventory.tags, apiId, tagId);
  }
  await eachLimited(productList.filter((p) => p.name), concurrency, async (p) => {
    const apis = await apim.call(`listing the APIs of product '${p.name}'`, () => client.listProductApis(p.name!));
    inventory.listReads += 1;
    for (const api of apis) if (api.name) push(inventory.products, api.name, p.name!);
  });
  return inventory;
}
