// The resource table below one service: `apis/{apiId}/policies/{policyId}` and the handlers per HTTP method.
// Literal segments match case-insensitively (ARM resource types are case-insensitive); `{name}` segments capture.
import type { ArmHandler } from './arm-request.ts';

export interface Route {
  /** Below `/service/{serviceName}`, e.g. `apis/{apiId}/operations`. */
  pattern: string;
  handlers: Partial<Record<string, ArmHandler>>;
}

interface CompiledRoute {
  parts: { literal?: string; param?: string }[];
  handlers: Partial<Record<string, ArmHandler>>;
}

export interface RouteMatch {
  params: Record<string, string>;
  handlers: Partial<Record<string, ArmHandler>>;
}

export class RouteTable {
  readonly #bySize = new Map<number, CompiledRoute[]>();

  constructor(routes: Route[]) {
    for (const r of routes) {
      const parts = r.pattern.split('/').map((p) => {
        const m = /^\{(\w+)\}$/.exec(p);
        return m ? { param: m[1]! } : { literal: p.toLowerCase() };
      });
      const list = this.#bySize.get(parts.length) ?? [];
      list.push({ parts, handlers: r.handlers });
      this.#bySize.set(parts.length, list);
    }
  }

  match(segments: string[]): RouteMatch | undefined {
    const candidates = this.#bySize.get(segments.length);
    if (!candidates) return undefined;
    // Literal matches win over parameters (e.g. `policies/policy` before `policies/{policyId}`), so try routes with
    // more literals first.
    let best: { route: CompiledRoute; literals: number; params: Record<string, string> } | undefined;
    for (const route of candidates) {
      const params: Record<string, string> = {};
      let literals = 0;
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const part = route.parts[i]!;
        const seg = segments[i]!;
        if (part.literal !== undefined) {
          if (part.literal !== seg.toLowerCase()) {
            ok = false;
            break;
          }
          literals++;
        } else {
          params[part.param!] = seg;
        }
      }
      if (ok && (!best || literals > best.literals)) best = { route, literals, params };
    }
    return best ? { params: best.params, handlers: best.route.handlers } : undefined;
  }
}
