import type { Config } from '../config';
import { connectDocker } from '../faults/docker';
import { describeFault, targetRefs } from '../faults/describe';
import { FailureType, GamedayError } from '../errors';
import { durationMs, findExperiment, loadExperimentFile, planExperiment } from '../spec/loader';
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
 * (with the opt-in and blast-radius checks a real run makes), those that name a host by that
 * host's agent, each fault and its duration.
 * Injects nothing and starts no workflow. Secret references resolve from this machine's
 * environment where it sets them; the plan shows passwords masked.
 */
export async function dryRun(config: Config, fileOrId: string, isFile: boolean, env: NodeJS.ProcessEnv = process.env): Promise<DryRunPlan> {
  const { spec, file }: { spec: Experiment; file: string } = isFile ? { spec: await loadExperimentFile(fileOrId), file: fileOrId } : await findExperiment(config.experimentsDir, fileOrId);
  // A variable unset here stays a reference: the worker, not this machine, resolves it.
  const unset = Object.fromEntries(missingSecrets(spec, env).map((r) => [r.name, `\${env:${r.name}}`]));
  const onHosts = Object.entries(spec.targets).filter(([, t]) => t.host !== undefined);
  const own = Object.keys(spec.targets).filter((name) => !onHosts.some(([n]) => n === name));
  const here = await resolveTargets({ docker: connectDocker(), env: { ...env, ...unset } }, spec, { allowlist: config.allowedTargets }, onHosts.length ? own : undefined, file);
  const there = onHosts.length ? await resolveOnAgents(config, spec, file) : [];
  const targets = maskPasswordsIn(Object.keys(spec.targets).map((name) => [...here, ...there].find((t) => t.name === name)).filter((t): t is ResolvedTarget => t !== undefined));
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

/** How long a dry run waits for a worker and the hosts' agents to resolve what names a host. */
const AGENTS_WAIT = '1m';

/**
 * The targets that name a host, resolved by that host's agent (a short `resolveOnHosts` workflow
 * that a worker runs): the CLI has no Docker engine of another host. Needs Temporal, a worker on
 * the configured task queue and an agent of each host; says which is missing.
 */
async function resolveOnAgents(config: Config, spec: Experiment, file: string): Promise<ResolvedTarget[]> {
  const [{ connectClient }, { WorkflowFailedError }] = await Promise.all([import('../temporal'), import('@temporalio/client')]);
  const client = await connectClient(config);
  try {
    return await client.workflow.execute('resolveOnHosts', {
      args: [planExperiment(spec, file)],
      taskQueue: config.taskQueue,
      workflowId: `dry-run-${spec.id}-${Date.now().toString(36)}`,
      workflowExecutionTimeout: AGENTS_WAIT,
    });
  } catch (e) {
    if (!(e instanceof WorkflowFailedError)) throw e;
    const hosts = [...new Set(Object.values(spec.targets).map((t) => t.host).filter(Boolean))].join(', ');
    if (e.cause?.name === 'TimeoutFailure' || /timed out/i.test(e.cause?.message ?? '')) {
      throw new GamedayError('AgentMissing', `${file}: the targets on host ${hosts} are resolved by a worker on task queue ${config.taskQueue} and the hosts' agents; none answered within ${AGENTS_WAIT}: start 'gameday worker' and 'gameday agent --host NAME'`);
    }
    const type = causeType(e);
    throw new GamedayError(type && (Object.values(FailureType) as string[]).includes(type) ? (type as FailureType) : FailureType.AgentMissing, `${file}: ${failureText(e)}`);
  } finally {
    await client.connection.close();
  }
}

/** The innermost message of a failure (an activity's own error inside its ActivityFailure). */
function failureText(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

function causeType(err: unknown): string | undefined {
  let e = err as { type?: string; cause?: unknown } | undefined;
  let type: string | undefined;
  while (e) {
    type = e.type ?? type;
    e = e.cause as typeof e;
  }
  return type;
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
