// Policy expressions: exactly the forms core/policy-xml.ts renders, and nothing else. A counter-key there is either a
// constant (`team-a-pc:test-identifier`) or `@("<apiId>:" + <source>)` where <source> is one of
//   context.Request.IpAddress
//   context.Subscription.Id
//   context.Request.Headers.GetValueOrDefault("<name>","<default>")
//   context.Request.Url.Query.GetValueOrDefault("<name>","<default>")
//   ((Jwt)context.Variables["<variable>"]).Claims.GetValueOrDefault("<name>","<default>")
// with C# string literals (backslash escapes). Anything else — another member, a method call, a `@{…}` block, a
// `{{named value}}` — is refused as not modelled when the policy is compiled, so it can never be silently ignored.
//
// Semantics (https://learn.microsoft.com/azure/api-management/api-management-policy-expressions, context variable
// table): Headers, Url.Query and Jwt.Claims are IReadOnlyDictionary<string, string[]> and GetValueOrDefault "returns
// comma-separated … values or defaultValue"; context.Subscription is null when the request has no subscription, and
// `context.Subscription.Id` then throws (as C# does), which APIM answers with 500; `context.Variables["x"]` throws when
// the variable is not set. Header names compare without case (HTTP); query parameter names too (unverified).
import { ExpressionFailure, NotModelled } from './gateway-errors.ts';

/** What an expression can read of the request being processed. */
export interface ExpressionContext {
  ipAddress: string;
  /** null when the request has no subscription (anonymous access). */
  subscription: { id: string } | null;
  header(name: string): string[] | undefined;
  query(name: string): string[] | undefined;
  variables: Map<string, unknown>;
}

/** The Jwt object validate-jwt stores in output-token-variable-name: its claims as string lists. */
export interface JwtValue {
  claims: Map<string, string[]>;
}

export type Evaluator = (ctx: ExpressionContext) => string;

type Token = { kind: 'string'; value: string } | { kind: 'ident'; value: string } | { kind: 'punct'; value: string };

function tokenize(text: string, where: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new NotModelled(`the unterminated string literal in the expression ${where}`);
        const d = text[i]!;
        if (d === '\\') {
          const e = text[i + 1];
          if (e === '\\' || e === '"') value += e;
          else throw new NotModelled(`the escape '\\${e ?? ''}' in the expression ${where}`);
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      out.push({ kind: 'string', value });
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      out.push({ kind: 'ident', value: m[0] });
      i += m[0].length;
    } else if ('+().[],'.includes(c)) {
      out.push({ kind: 'punct', value: c });
      i++;
    } else {
      throw new NotModelled(`the character '${c}' in the expression ${where}`);
    }
  }
  return out;
}

/** The token shapes of the five sources, with `S` standing for a string literal. */
const SOURCES: { shape: string; build(args: string[]): Evaluator }[] = [
  { shape: 'context . Request . IpAddress', build: () => (ctx) => ctx.ipAddress },
  {
    shape: 'context . Subscription . Id',
    build: () => (ctx) => {
      if (ctx.subscription === null) throw new ExpressionFailure('Object reference not set to an instance of an object (context.Subscription is null: the request has no subscription).');
      return ctx.subscription.id;
    },
  },
  {
    shape: 'context . Request . Headers . GetValueOrDefault ( S , S )',
    build: ([name, fallback]) => (ctx) => ctx.header(name!)?.join(',') ?? fallback!,
  },
  {
    shape: 'context . Request . Url . Query . GetValueOrDefault ( S , S )',
    build: ([name, fallback]) => (ctx) => ctx.query(name!)?.join(',') ?? fallback!,
  },
  {
    shape: '( ( Jwt ) context . Variables [ S ] ) . Claims . GetValueOrDefault ( S , S )',
    build: ([variable, name, fallback]) => (ctx) => {
      if (!ctx.variables.has(variable!)) throw new ExpressionFailure(`The given key '${variable}' was not present in the dictionary.`);
      const jwt = ctx.variables.get(variable!) as JwtValue | undefined;
      if (!jwt || !(jwt.claims instanceof Map)) throw new ExpressionFailure(`Unable to cast context.Variables["${variable}"] to Jwt.`);
      return jwt.claims.get(name!)?.join(',') ?? fallback!;
    },
  },
];

function shapeOf(tokens: Token[]): { shape: string; strings: string[] } {
  return { shape: tokens.map((t) => (t.kind === 'string' ? 'S' : t.value)).join(' '), strings: tokens.filter((t) => t.kind === 'string').map((t) => t.value) };
}

/**
 * Compiles an attribute value: a constant (no expression) or one of the modelled `@(…)` forms. `where` names the
 * attribute for the not-modelled message (e.g. "counter-key of rate-limit-by-key").
 */
export function compileValue(value: string, where: string): Evaluator {
  const trimmed = value.trim();
  if (/\{\{[^}]*\}\}/.test(value)) throw new NotModelled(`the named value reference in ${where} ('${value}')`);
  if (!trimmed.startsWith('@')) return () => value;
  if (!trimmed.startsWith('@(') || !trimmed.endsWith(')')) throw new NotModelled(`the policy expression ${trimmed} in ${where} (only single @(…) expressions of the rendered forms are)`);
  const inner = trimmed.slice(2, -1);
  const tokens = tokenize(inner, `${trimmed} in ${where}`);
  // `"<prefix>" + <source>`
  const first = tokens[0];
  if (tokens.length >= 3 && first?.kind === 'string' && tokens[1]!.kind === 'punct' && tokens[1]!.value === '+') {
    const prefix = first.value;
    const { shape, strings } = shapeOf(tokens.slice(2));
    const source = SOURCES.find((s) => s.shape === shape);
    if (source) {
      const evaluate = source.build(strings);
      return (ctx) => prefix + evaluate(ctx);
    }
  }
  throw new NotModelled(`the policy expression ${trimmed} in ${where} (modelled: "<apiId>:" + one of context.Request.IpAddress, context.Subscription.Id, context.Request.Headers/Url.Query/((Jwt)context.Variables[…]).Claims .GetValueOrDefault(…))`);
}

/** A value that must be a constant (attributes where APIM allows no expressions, or the executor renders none). */
export function constantValue(value: string, where: string): string {
  if (value.trim().startsWith('@') || /\{\{[^}]*\}\}/.test(value)) throw new NotModelled(`the expression or named value '${value}' in ${where}`);
  return value;
}
