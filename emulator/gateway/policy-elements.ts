// Reading a policy element the way the gateway runs it: only the attributes and children a policy's model names are
// accepted (anything else is refused as not modelled rather than ignored), values are constants unless the model says
// an expression is evaluated, and every refusal names the element, its scope and where it sits in the document.
import type { XmlElement } from '../xml-document.ts';
import { attribute, elementChildren } from '../xml-document.ts';
import { NotModelled } from './gateway-errors.ts';
import { compileValue, constantValue, type Evaluator } from './policy-expressions.ts';

/** Where a policy element comes from, for messages: "rate-limit-by-key (api scope, line 7)". */
export function placeOf(el: XmlElement, scope: string): string {
  return `'${el.name}' (${scope} scope, line ${el.line})`;
}

export function onlyAttributes(el: XmlElement, allowed: readonly string[], scope: string): void {
  for (const a of el.attributes) {
    if (!allowed.includes(a.name)) throw new NotModelled(`the attribute '${a.name}' of ${placeOf(el, scope)}`);
  }
}

export function onlyChildren(el: XmlElement, allowed: readonly string[], scope: string): XmlElement[] {
  const children = elementChildren(el);
  for (const c of children) {
    if (!allowed.includes(c.name)) throw new NotModelled(`the element '${c.name}' inside ${placeOf(el, scope)}`);
  }
  return children;
}

export function constant(el: XmlElement, name: string, scope: string): string | undefined {
  const v = attribute(el, name);
  return v === undefined ? undefined : constantValue(v, `the attribute '${name}' of ${placeOf(el, scope)}`);
}

export function integer(el: XmlElement, name: string, scope: string): number | undefined {
  const v = constant(el, name, scope);
  if (v === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(v)) throw new NotModelled(`the value '${v}' of '${name}' in ${placeOf(el, scope)} (a whole number is expected)`);
  return Number(v);
}

export function boolean(el: XmlElement, name: string, scope: string, fallback: boolean): boolean {
  const v = constant(el, name, scope);
  if (v === undefined) return fallback;
  if (v.trim() === 'true') return true;
  if (v.trim() === 'false') return false;
  throw new NotModelled(`the value '${v}' of '${name}' in ${placeOf(el, scope)} (true or false is expected)`);
}

/** The text of a leaf element (`<origin>…</origin>`), as a constant. */
export function text(el: XmlElement, scope: string): string {
  const t = el.children.map((c) => (c.type === 'text' ? c.value : '')).join('').trim();
  return constantValue(t, `the text of ${placeOf(el, scope)}`);
}

export type Action = 'ignore' | 'prevent' | 'detect';

export function action(el: XmlElement, name: string, scope: string, fallback?: Action): Action {
  const v = constant(el, name, scope);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new NotModelled(`${placeOf(el, scope)} without '${name}'`);
  }
  if (v === 'ignore' || v === 'prevent' || v === 'detect') return v;
  throw new NotModelled(`the action '${v}' of '${name}' in ${placeOf(el, scope)}`);
}

/** The three attributes both counter policies require (rate-limit-by-key, quota-by-key): calls, renewal-period and
 * the counter-key, compiled. */
export function counterSettings(el: XmlElement, scope: string): { calls: number; period: number; key: Evaluator } {
  const calls = integer(el, 'calls', scope);
  const period = integer(el, 'renewal-period', scope);
  const rawKey = attribute(el, 'counter-key');
  if (calls === undefined || period === undefined || rawKey === undefined) throw new NotModelled(`${placeOf(el, scope)} without calls, renewal-period and counter-key`);
  return { calls, period, key: compileValue(rawKey, `the counter-key of ${placeOf(el, scope)}`) };
}
