// The parent ODA Component's view of this API. The component operator lists each API in status.coreAPIs,
// managementAPIs or securityAPIs with the ExposedAPI's uid; like the reference API operator, the executor sets url and
// developerUI on that entry once the API is published. The entry's `ready` is not the executor's: the dispatcher's
// readiness sync owns it, from the implementation Service's EndpointSlices (docs/status.md, one writer per field). A
// JSON patch that first tests the entry's uid changes exactly that entry, so concurrent writers of other entries are
// safe; it carries the executor's field manager (kube-client.ts).
import { ODA_GROUP } from '../core/exposedapi-model.ts';
import type { ExposedApiObject, OwnerReference } from './exposedapi-object.ts';
import { JSON_PATCH, KubeError, type KubeClient } from './kube-client.ts';

export const COMPONENT_API_LISTS = ['coreAPIs', 'managementAPIs', 'securityAPIs'] as const;

export interface ComponentApiFields {
  url: string;
  developerUI?: string;
  /**
   * @deprecated Not written: the entry's `ready` belongs to the dispatcher's readiness sync (docs/status.md).
   * Accepted so callers compile; leave it out.
   */
  ready?: boolean;
}

/** The owning Component, if the ExposedAPI has one (ownerReferences, controller first). */
export function parentComponent(obj: Pick<ExposedApiObject, 'metadata'>): OwnerReference | undefined {
  const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.kind === 'Component' && r.apiVersion.split('/')[0] === ODA_GROUP);
  return refs.find((r) => r.controller) ?? refs[0];
}

/** The JSON patch for the entry whose uid matches, or undefined when the Component does not list this API. Pure. */
export function componentPatch(component: { status?: Record<string, unknown> }, uid: string, fields: ComponentApiFields): object[] | undefined {
  for (const list of COMPONENT_API_LISTS) {
    const entries = component.status?.[list];
    if (!Array.isArray(entries)) continue;
    const i = entries.findIndex((e) => (e as { uid?: string } | null)?.uid === uid);
    if (i < 0) continue;
    const base = `/status/${list}/${i}`;
    const entry = entries[i] as Record<string, unknown>;
    const ops: object[] = [{ op: 'test', path: `${base}/uid`, value: uid }];
    const set = (key: string, value: unknown): void => {
      ops.push({ op: key in entry ? 'replace' : 'add', path: `${base}/${key}`, value });
    };
    set('url', fields.url);
    if (fields.developerUI !== undefined) set('developerUI', fields.developerUI);
    return ops;
  }
  return undefined;
}

export type ComponentUpdate = 'updated' | 'unchanged' | 'not-listed' | 'no-parent' | 'gone';

export async function updateParentComponent(kube: KubeClient, obj: ExposedApiObject, fields: ComponentApiFields): Promise<ComponentUpdate> {
  const parent = parentComponent(obj);
  if (!parent) return 'no-parent';
  const path = `/apis/${parent.apiVersion}/namespaces/${obj.metadata.namespace}/components/${parent.name}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const component = await kube.get<{ status?: Record<string, unknown> }>(path);
    if (!component) return 'gone';
    const ops = componentPatch(component, obj.metadata.uid, fields);
    if (!ops) return 'not-listed';
    // Only the test op: the entry already holds these values.
    if (ops.length === 1 || unchanged(component, ops)) return 'unchanged';
    try {
      await kube.patch(path, ops, JSON_PATCH);
      return 'updated';
    } catch (e) {
      // The entry moved (another writer changed the list between our read and patch): read again.
      if (e instanceof KubeError && (e.status === 422 || e.status === 409)) continue;
      throw e;
    }
  }
  throw new Error(`the Component ${parent.name} kept changing while its status entry for ${obj.metadata.name} was being updated`);
}

function unchanged(component: { status?: Record<string, unknown> }, ops: object[]): boolean {
  return ops.every((op) => {
    const { op: kind, path, value } = op as { op: string; path: string; value: unknown };
    if (kind === 'test') return true;
    const [, , list, index, key] = path.split('/');
    const entry = (component.status?.[list!] as Record<string, unknown>[] | undefined)?.[Number(index)];
    return entry !== undefined && JSON.stringify(entry[key!]) === JSON.stringify(value);
  });
}
