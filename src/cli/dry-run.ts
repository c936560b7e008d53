import type { Config } from '../config';
import { connectDocker } from '../faults/docker';
import { describeFault, targetRefs } from '../faults/describe';
import { durationMs, findExperiment, loadExperimentFile } from '../spec/loader';
import type { Experiment } from '../spec/schema';
import { resolveTargets } from '../targets';
import type { ResolvedTarget } from '../types';

export interface DryRunPlan {
  experimentId: string;
  title: string;
  hypothesis: string;
  targets: ResolvedTarget[];
  faults: { description: string; duration: string; durationMs: number }[];
  guardrails: string[];
  recoveryWithin: string;
}

/**
 * What `gameday run --dry-run` shows: the targets resolved now on this machine's Docker engine
 * (with the opt-in and blast-radius checks a real run makes), each fault and its duration.
 * Injects nothing and starts no workflow.
 */
export async function dryRun(config: Config, fileOrId: string, isFile: boolean): Promise<DryRunPlan> {
  const spec: Experiment = isFile ? await loadExperimentFile(fileOrId) : (await findExperiment(config.experimentsDir, fileOrId)).spec;
  const targets = await resolveTargets({ docker: connectDocker() }, spec, { allowlist: config.allowedTargets });
  return {
    experimentId: spec.id,
    title: spec.title,
    hypothesis: spec.hypothesis,
    targets,
    faults: spec.method.map((step) => ({
      description: describeFault(step.fault, targets.find((t) => t.name === step.fault.target)!),
      duration: step.duration,
      durationMs: durationMs(step.duration),
    })),
    guardrails: (spec.guardrails ?? []).map((g) => `${g.name}: abort when ${Object.entries(g.abortWhen).map(([f, t]) => `${f} ${JSON.stringify(t)}`).join(' or ')}`),
    recoveryWithin: spec.recovery?.within ?? '30s',
  };
}

export function formatDryRun(p: DryRunPlan): string[] {
  return [
    `dry run of ${p.experimentId} — ${p.title}: nothing will be injected`,
    `hypothesis: ${p.hypothesis}`,
    'targets:',
    ...p.targets.map((t) => `  ${t.name}: ${t.selector} → ${targetRefs(t).map((c) => c.name).join(', ')}`),
    'faults, in order:',
    ...p.faults.map((f, i) => `  ${i + 1}. ${f.description} for ${f.duration}`),
    ...(p.guardrails.length ? ['guardrails:', ...p.guardrails.map((g) => `  ${g}`)] : []),
    `recovery: the steady state must return within ${p.recoveryWithin}`,
  ];
}
