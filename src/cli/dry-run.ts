import type { Config } from '../config';
import { connectDocker } from '../faults/docker';
import { describeFault, targetRefs } from '../faults/describe';
import { durationMs, findExperiment, loadExperimentFile } from '../spec/loader';
import { maskPasswordsIn } from '../mask';
import { missingSecrets, secretWarnings } from '../secrets';
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
  /** Secrets: passwords typed into URLs, references not set on this machine (see secretWarnings). */
  warnings: string[];
}

/**
 * What `gameday run --dry-run` shows: the targets resolved now on this machine's Docker engine
 * (with the opt-in and blast-radius checks a real run makes), each fault and its duration.
 * Injects nothing and starts no workflow. Secret references resolve from this machine's
 * environment where it sets them; the plan shows passwords masked.
 */
export async function dryRun(config: Config, fileOrId: string, isFile: boolean, env: NodeJS.ProcessEnv = process.env): Promise<DryRunPlan> {
  const { spec, file }: { spec: Experiment; file: string } = isFile ? { spec: await loadExperimentFile(fileOrId), file: fileOrId } : await findExperiment(config.experimentsDir, fileOrId);
  // A variable unset here stays a reference: the worker, not this machine, resolves it.
  const unset = Object.fromEntries(missingSecrets(spec, env).map((r) => [r.name, `\${env:${r.name}}`]));
  const targets = maskPasswordsIn(await resolveTargets({ docker: connectDocker(), env: { ...env, ...unset } }, spec, { allowlist: config.allowedTargets }, undefined, file));
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
    warnings: secretWarnings(spec, env).map((w) => `${w.path}: ${w.message}`),
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
    ...p.warnings.map((w) => `warning: ${w}`),
  ];
}
