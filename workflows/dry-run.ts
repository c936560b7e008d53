import type { ExperimentPlan, ResolvedTarget } from '../src/types';
import { PERMANENT } from './failure';
import { resolveAcrossHosts } from './hosts';

/**
 * `gameday run --dry-run` of a file whose targets name hosts: resolves those targets on each
 * host's agent, as a run would (the CLI resolves the others on its own engine). Injects nothing;
 * fails with AgentMissing when a host has no agent.
 */
export async function resolveOnHosts(plan: ExperimentPlan): Promise<ResolvedTarget[]> {
  return (await resolveAcrossHosts(plan, async () => [], PERMANENT)) ?? [];
}
