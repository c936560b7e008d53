import { FailureType, formatProblem, GamedayError } from './errors';
import { FAMILIES, type FaultDeps, type TargetPolicy } from './faults';
import { missingError, missingSecrets, withSecrets } from './secrets';
import { SpecFieldError, type FaultFamily } from './faults/family';
import { maskPasswords } from './mask';
import type { Experiment, TargetSpec } from './spec/schema';
import type { ResolvedTarget } from './types';

export { OPT_IN_LABEL } from './faults/docker';
export type { TargetPolicy } from './faults';

/** The most containers (or processes) one fault may touch when its step sets no maxTargets. */
export const DEFAULT_MAX_TARGETS = 10;

/**
 * Resolves every target of an experiment to what it will touch, enforcing the safety rules before
 * anything is injected: each container or process must opt in (label `gameday.enabled=true`,
 * GAMEDAY_ENABLED=true in a process's environment, or the allowlist), addresses must be on this
 * machine or allowlisted, and no fault may touch more than its `maxTargets`.
 * With `only`, resolves those targets and checks the blast radius of their faults alone (an
 * agent resolves the targets of its host; the orchestrating worker those of its own).
 * With `source` (the file), a refusal about one field names the file and the field.
 * @throws GamedayError TargetNotFound, TargetNotAllowed or BlastRadiusExceeded, naming the target.
 */
export async function resolveTargets(deps: FaultDeps, spec: Experiment, policy: TargetPolicy, only?: string[], source?: string): Promise<ResolvedTarget[]> {
  const resolved: ResolvedTarget[] = [];
  for (const [name, target] of Object.entries(spec.targets)) {
    if (only && !only.includes(name)) continue;
    const family = FAMILIES[target.kind] as FaultFamily<TargetSpec['kind']>;
    // Resolved with its secrets for this call only; the record keeps the spec as written (references, not values).
    const { selector, refs } = await withSecrets(target, deps.env ?? process.env, (t) => family.resolve(deps, name, t as never, policy), `target '${name}'`).catch((e: unknown) => {
      throw e instanceof SpecFieldError && source ? new GamedayError(e.type, formatProblem({ file: source, path: e.field, message: e.message })) : e;
    });
    resolved.push({ name, kind: target.kind, selector: maskPasswords(selector), refs: refs.map((r) => ({ ...r, name: maskPasswords(r.name) })), spec: target });
  }
  spec.method.forEach((step, i) => {
    if (only && !only.includes(step.fault.target)) return;
    const max = step.maxTargets ?? DEFAULT_MAX_TARGETS;
    const count = resolved.find((t) => t.name === step.fault.target)?.refs.length ?? 0;
    if (count > max) {
      throw new GamedayError(
        FailureType.BlastRadiusExceeded,
        `method.${i}: ${step.fault.kind} on target '${step.fault.target}' would touch ${count} ${step.fault.kind.startsWith('process-') ? 'processes' : 'containers'}, more than its maxTargets of ${max}: narrow the selector, add pick, or raise maxTargets`,
      );
    }
  });
  return resolved;
}

/**
 * The preflight of a run's secrets: every `${env:NAME}` of the experiment (its targets, probes,
 * faults, guardrails) must be set in `env`, the environment of the worker that runs it.
 * @throws GamedayError SecretMissing naming each unset variable, its field and the experiment,
 *   before anything is injected.
 */
export function checkSecrets(spec: Experiment, source: string, env: NodeJS.ProcessEnv = process.env): void {
  const missing = missingSecrets(spec, env);
  if (missing.length > 0) throw missingError(missing, `experiment ${spec.id} (${source})`, 'nothing was injected');
}
