import type Docker from 'dockerode';
import { FailureType, GamedayError } from './errors';
import { describeSelector, findContainers, type MatchedContainer } from './faults/docker';
import type { Experiment, TargetSpec } from './spec/schema';
import type { ResolvedTarget } from './types';

/** The label a container carries to opt in to experiments. */
export const OPT_IN_LABEL = 'gameday.enabled';
/** The most containers one fault may touch when its step sets no maxTargets. */
export const DEFAULT_MAX_TARGETS = 10;

export interface TargetPolicy {
  /** Container names allowed without the opt-in label (the worker's GAMEDAY_ALLOWED_TARGETS). */
  allowlist: string[];
}

/** Picks a random `count` or `percent` of the matches (at least one), or all of them. */
function pick(matches: MatchedContainer[], spec: TargetSpec, random: () => number): MatchedContainer[] {
  if (!spec.pick) return matches;
  const n = 'count' in spec.pick ? spec.pick.count : Math.max(1, Math.floor((matches.length * spec.pick.percent) / 100));
  const shuffled = [...matches];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled.slice(0, Math.min(n, matches.length)).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Resolves every target of an experiment to the containers it will touch, enforcing the safety
 * rules before anything is injected: each container must opt in (label `gameday.enabled=true`,
 * or be on the allowlist), and no fault may touch more containers than its `maxTargets`.
 * @throws GamedayError TargetNotFound, TargetNotAllowed or BlastRadiusExceeded, naming the target.
 */
export async function resolveTargets(docker: Docker, spec: Experiment, policy: TargetPolicy, random = Math.random): Promise<ResolvedTarget[]> {
  const resolved: ResolvedTarget[] = [];
  for (const [name, target] of Object.entries(spec.targets)) {
    const selector = describeSelector(target);
    const matches = await findContainers(docker, target);
    if (matches.length === 0) throw new GamedayError(FailureType.TargetNotFound, `target '${name}': no ${selector} found on the Docker engine`);
    const chosen = pick(matches, target, random);
    for (const c of chosen) {
      if (c.labels[OPT_IN_LABEL] !== 'true' && !policy.allowlist.includes(c.name)) {
        throw new GamedayError(
          FailureType.TargetNotAllowed,
          `target '${name}': container ${c.name} has not opted in to experiments: label it ${OPT_IN_LABEL}=true, or add it to GAMEDAY_ALLOWED_TARGETS on the worker`,
        );
      }
    }
    resolved.push({ name, selector: target.pick ? `${selector}, pick ${JSON.stringify(target.pick)} of ${matches.length}` : selector, containers: chosen.map(({ id, name: n }) => ({ id, name: n })) });
  }
  spec.method.forEach((step, i) => {
    const max = step.maxTargets ?? DEFAULT_MAX_TARGETS;
    const count = resolved.find((t) => t.name === step.fault.target)?.containers.length ?? 0;
    if (count > max) {
      throw new GamedayError(
        FailureType.BlastRadiusExceeded,
        `method.${i}: ${step.fault.kind} on target '${step.fault.target}' would touch ${count} containers, more than its maxTargets of ${max}: narrow the selector, add pick, or raise maxTargets`,
      );
    }
  });
  return resolved;
}
