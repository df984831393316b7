// Which APIM instance an ExposedAPI publishes into. One rule for admission (the webhook), the claims (path and apiId
// are unique per instance) and the dispatcher (the Job's environment and ServiceAccount), in this order:
//   1. spec.apim.target: the ApimTarget it names;
//   2. else the ApimTarget whose spec.namespaceSelector matches the ExposedAPI's namespace;
//   3. else the ApimTarget with spec.default: true;
//   4. else the operator's own instance (the APIM_* env of its ConfigMap), so an install without any ApimTarget keeps
//      working exactly as before.
// Then the tenancy policy: a rule's `targets` names the ApimTargets its namespaces may use (the operator's own instance
// is always allowed: it is what every namespace had before targets existed). A choice that cannot be made (a target
// that does not exist or is invalid, two selectors or two defaults at once, a target the policy forbids) is an answer,
// not an exception: admission denies it, the dispatcher writes it to Ready and runs no Job. Pure.
import { readApimTarget, sameServiceId, selectorMatches, type ApimTarget, type TargetRead } from './apim-target.ts';
import { renderFieldError } from './field-error.ts';
import { globMatch, ruleFor, type TenancyPolicy } from './tenancy-policy.ts';

export type TargetRefusal = 'TargetNotFound' | 'TargetInvalid' | 'TargetAmbiguous' | 'TargetNotAllowed';

export type TargetChoice =
  | { kind: 'operator' }
  | { kind: 'target'; target: ApimTarget; via: 'spec.apim.target' | 'namespaceSelector' | 'default' }
  | { kind: 'refused'; reason: TargetRefusal; field: string; value: string; message: string };

const listed = (names: readonly string[]): string => names.map((n) => `"${n}"`).join(', ');

/**
 * The ApimTargets and namespace labels the process knows (from its watches), and the choice for an ExposedAPI. Two
 * targets naming one instance would split its uniqueness in two: the one whose name sorts first keeps the instance,
 * the other is invalid until one of them changes.
 */
export class TargetDirectory {
  private readonly reads = new Map<string, TargetRead>();
  private readonly labels = new Map<string, Record<string, string>>();
  /** Valid targets by name, recomputed on change (duplicate instances removed). */
  private valid = new Map<string, ApimTarget>();
  private invalid = new Map<string, string>();
  /** The ARM id of the operator's own instance (APIM_* env), when the process knows it: its claim scope. */
  readonly operatorServiceId: string | undefined;

  constructor(operatorServiceId?: string) {
    this.operatorServiceId = operatorServiceId;
  }

  get size(): number {
    return this.reads.size;
  }

  targets(): ApimTarget[] {
    return [...this.valid.values()];
  }

  target(name: string): ApimTarget | undefined {
    return this.valid.get(name);
  }

  /** Why a target is not usable, when it exists but is not. */
  problemOf(name: string): string | undefined {
    return this.invalid.get(name);
  }

  /** From the ApimTarget watch. Returns whether anything a choice reads changed. */
  setTarget(obj: unknown): boolean {
    const read = readApimTarget(obj);
    const before = this.reads.get(read.name);
    if (before && JSON.stringify(before) === JSON.stringify(read)) return false;
    this.reads.set(read.name, read);
    this.recompute();
    return true;
  }

  removeTarget(name: string): boolean {
    if (!this.reads.delete(name)) return false;
    this.recompute();
    return true;
  }

  /** From the Namespace watch: only labels matter. Returns whether they changed. */
  setNamespace(name: string, labels: Record<string, string>): boolean {
    const before = this.labels.get(name);
    if (before && JSON.stringify(before) === JSON.stringify(labels)) return false;
    this.labels.set(name, { ...labels });
    return true;
  }

  removeNamespace(name: string): boolean {
    return this.labels.delete(name);
  }

  /** Whether any target selects namespaces by label (else namespace labels never matter). */
  get selectsByLabel(): boolean {
    return this.targets().some((t) => t.namespaceSelector !== undefined);
  }

  private recompute(): void {
    const valid = new Map<string, ApimTarget>();
    const invalid = new Map<string, string>();
    for (const name of [...this.reads.keys()].sort()) {
      const read = this.reads.get(name)!;
      if (!read.ok) {
        invalid.set(name, read.errors.map(renderFieldError).join('; '));
        continue;
      }
      const holder = [...valid.values()].find((t) => sameServiceId(t.resourceId, read.target.resourceId));
      if (holder) invalid.set(name, `spec.resourceId names the same APIM instance as ApimTarget "${holder.name}"; one ApimTarget per instance`);
      else valid.set(name, read.target);
    }
    this.valid = valid;
    this.invalid = invalid;
  }

  /** The choice for an ExposedAPI in `namespace` with spec.apim.target `explicit`, under the tenancy policy. */
  choose(namespace: string, explicit: string | undefined, policy: TenancyPolicy): TargetChoice {
    const choice = this.select(namespace, explicit);
    if (choice.kind !== 'target') return choice;
    const allowed = ruleFor(policy, namespace);
    if (allowed?.targets && !allowed.targets.some((p) => globMatch(p, choice.target.name))) {
      const field = choice.via === 'spec.apim.target' ? 'spec.apim.target' : 'metadata.namespace';
      const fix = allowed.targets.length === 0
        ? 'the policy allows it none, so remove spec.apim.target to use the operator\'s own instance'
        : `use one of ${listed(allowed.targets)}`;
      const how = choice.via === 'spec.apim.target' ? '' : ` (chosen by its ${choice.via === 'default' ? 'spec.default' : 'spec.namespaceSelector'}; set spec.apim.target to an allowed one)`;
      return {
        kind: 'refused',
        reason: 'TargetNotAllowed',
        field,
        value: choice.target.name,
        message: `namespace "${namespace}" may not publish into ApimTarget "${choice.target.name}"${how} (the operator's tenancy policy (TENANCY_POLICY), rule ${allowed.index}); ${fix}`,
      };
    }
    return choice;
  }

  private select(namespace: string, explicit: string | undefined): TargetChoice {
    if (explicit !== undefined) {
      const target = this.valid.get(explicit);
      if (target) return { kind: 'target', target, via: 'spec.apim.target' };
      const problem = this.invalid.get(explicit);
      if (problem !== undefined) {
        return { kind: 'refused', reason: 'TargetInvalid', field: 'spec.apim.target', value: explicit, message: `ApimTarget "${explicit}" is not usable: ${problem}; the platform team must fix it (kubectl get apimtarget ${explicit} -o yaml)` };
      }
      const names = [...this.valid.keys()];
      return {
        kind: 'refused',
        reason: 'TargetNotFound',
        field: 'spec.apim.target',
        value: explicit,
        message: `ApimTarget "${explicit}" does not exist; ${names.length > 0 ? `use one of ${listed(names)} (kubectl get apimtargets)` : 'there are no ApimTargets: remove spec.apim.target to use the operator\'s own instance'}`,
      };
    }
    const labels = this.labels.get(namespace) ?? {};
    const selected = this.targets().filter((t) => t.namespaceSelector && selectorMatchesLabels(t, labels));
    if (selected.length > 1) {
      const names = selected.map((t) => t.name);
      return { kind: 'refused', reason: 'TargetAmbiguous', field: 'spec.apim.target', value: '', message: `namespace "${namespace}" is selected by the namespaceSelector of ApimTargets ${listed(names)}; set spec.apim.target to one of them (or the platform team makes the selectors disjoint)` };
    }
    if (selected.length === 1) return { kind: 'target', target: selected[0]!, via: 'namespaceSelector' };
    const defaults = this.targets().filter((t) => t.default);
    if (defaults.length > 1) {
      const names = defaults.map((t) => t.name);
      return { kind: 'refused', reason: 'TargetAmbiguous', field: 'spec.apim.target', value: '', message: `ApimTargets ${listed(names)} are all spec.default: true; set spec.apim.target to one of them (or the platform team keeps one default)` };
    }
    if (defaults.length === 1) return { kind: 'target', target: defaults[0]!, via: 'default' };
    return { kind: 'operator' };
  }

  /**
   * The uniqueness scope of a choice: the instance's ARM id (lower case), so two ExposedAPIs on one instance compete
   * for paths and ids whichever way each reached it. The operator's instance counts as its ARM id when the process
   * knows it (APIM_* in its environment), else as its own scope ''. A refused choice claims nothing anywhere: it never
   * runs a Job.
   */
  scopeOf(choice: TargetChoice): string | undefined {
    if (choice.kind === 'refused') return undefined;
    if (choice.kind === 'target') return choice.target.resourceId.toLowerCase();
    return this.operatorServiceId?.toLowerCase() ?? '';
  }
}

function selectorMatchesLabels(t: ApimTarget, labels: Record<string, string>): boolean {
  return t.namespaceSelector !== undefined && selectorMatches(t.namespaceSelector, labels);
}
