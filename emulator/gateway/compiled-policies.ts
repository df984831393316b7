// The compiled effective policy of each operation, kept across the routing views: the view is rebuilt after any
// change to the service (a tag, another API's import, a subscription), and most of those leave an operation's policy
// as it was. A compilation is reused while the documents it was built from are the same objects (the emulator
// replaces a PolicyEntity on every write: global, API, operation, every fragment it included or looked for) and the
// gateway settings are the same generation; anything else compiles it again on its next request. So a policy is
// parsed and compiled once per change to it, never per request.
import type { PolicyEntity } from '../service-model.ts';
import { key } from '../service-model.ts';
import type { CompiledPolicy, PolicyInputs, PolicyRuntime } from './effective-policy.ts';
import { compileEffectivePolicy, policyInputs } from './effective-policy.ts';
import { NotModelled } from './gateway-errors.ts';

interface Entry {
  inputs: PolicyInputs;
  settingsGeneration: number;
  compiled: CompiledPolicy | NotModelled;
}

/** Beyond this many operations the cache starts over (bounded memory for services with huge APIs churning). */
const MAX_ENTRIES = 10_000;

export class CompiledPolicies {
  readonly #rt: PolicyRuntime;
  readonly #entries = new Map<string, Entry>();
  /** Bumped when the gateway settings change: compiled steps read them at compile time. */
  #settingsGeneration = 0;
  /** How many compilations ran (tests read it to prove reuse). */
  compilations = 0;

  constructor(rt: PolicyRuntime) {
    this.#rt = rt;
  }

  /** The effective policy of an API's operation (or of the API alone), compiled or reused; what is not modelled. */
  get(apiKey: string, api: PolicyEntity | undefined, operationKey: string | undefined, operation: PolicyEntity | undefined): CompiledPolicy | NotModelled {
    const cacheKey = `${apiKey}\u0000${operationKey ?? ''}`;
    const entry = this.#entries.get(cacheKey);
    if (entry && entry.settingsGeneration === this.#settingsGeneration && this.#unchanged(entry.inputs, api, operation)) return entry.compiled;
    const inputs = policyInputs(this.#rt.svc, api, operation);
    let compiled: CompiledPolicy | NotModelled;
    this.compilations++;
    try {
      compiled = compileEffectivePolicy(this.#rt, inputs);
    } catch (err) {
      if (!(err instanceof NotModelled)) throw err;
      compiled = err;
    }
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(cacheKey, { inputs, settingsGeneration: this.#settingsGeneration, compiled });
    return compiled;
  }

  settingsChanged(): void {
    this.#settingsGeneration++;
  }

  clear(): void {
    this.#entries.clear();
  }

  #unchanged(inputs: PolicyInputs, api: PolicyEntity | undefined, operation: PolicyEntity | undefined): boolean {
    const data = this.#rt.svc.data;
    if (inputs.global !== data.policy || inputs.api !== api || inputs.operation !== operation) return false;
    for (const [id, policy] of inputs.fragments) if (data.policyFragments[key(id)]?.policy !== policy) return false;
    return true;
  }
}
