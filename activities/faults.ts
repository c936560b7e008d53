import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import { checkCommands, commandsOfFault, type CommandPolicy } from '../src/commands/policy';
import { GamedayError } from '../src/errors';
import { publishEvent as publish } from '../src/events';
import { injectFault as inject, revertFault as revert } from '../src/faults';
import { noopMetricMeter } from '@temporalio/common';
import { dueKey, DueReverts, type DueRevertTimers } from '../src/faults/due-reverts';
import { GamedayMetrics } from '../src/metrics/gameday';
import type { NotifyRule } from '../src/notify/rules';
import { checkSecrets, resolveTargets as resolve } from '../src/targets';
import type { Experiment } from '../src/spec/schema';
import type { ExperimentPlan, PlannedFault, ResolvedTarget } from '../src/types';
import { rollbackFailingSignal } from '../workflows/definitions';
import { stillInPlace } from './due-check';
import { notifyRollbackFailing, type RevertRun } from './notify';

/**
 * What the activities that touch targets need: the host's own Docker engine and environment,
 * and a Temporal client (the due-time revert asks whether its run is still open; a failing revert
 * signals its run). No results store: an agent on a remote host has none.
 */
export interface FaultActivityDeps {
  docker: Docker;
  client?: Client;
  /** Container names allowed without the opt-in label. */
  allowedTargets: string[];
  /**
   * Which commands this host runs (src/commands/policy.ts): those its catalog's files hold, or any
   * with allowInline. @default no inline commands, and no catalog: no command runs
   */
  commandPolicy?: CommandPolicy;
  /** Where secret references are resolved from. @default process.env */
  env?: NodeJS.ProcessEnv;
  eventsNatsUrl?: string;
  /** The process's due-time reverts (src/faults/due-reverts.ts); one of its own when absent. */
  dueReverts?: DueRevertTimers;
  /** The process's Gameday metrics (src/metrics/gameday.ts); none recorded when absent. */
  metrics?: GamedayMetrics;
  notify?: NotifyRule;
  uiUrl?: string;
  namespace?: string;
}

/** The part of a spec whose secrets one host's worker must hold: its targets, their faults, and (off the agent) the probes. */
function scopedSpec(spec: Experiment, targets: string[], targetsOnly: boolean): Experiment {
  const own = {
    ...spec,
    targets: Object.fromEntries(Object.entries(spec.targets).filter(([name]) => targets.includes(name))),
    method: spec.method.filter((step) => targets.includes(step.fault.target)),
  };
  return targetsOnly ? { ...own, steadyState: [], observe: undefined, guardrails: undefined } : own;
}

/**
 * The attempts of a failing revert at which the workflow is told (3, 6, 12, 24 …): a revert that
 * fails for a day adds a dozen signals to its history, not one per attempt.
 */
export function tellsWorkflowAt(attempt: number): boolean {
  if (attempt < 3) return false;
  const rounds = attempt / 3;
  return Number.isInteger(rounds) && (rounds & (rounds - 1)) === 0;
}

/** Permanent problems fail at once; anything else is left to Temporal's retries. */
export async function permanent<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof GamedayError) throw ApplicationFailure.nonRetryable(e.message, e.type);
    throw e;
  }
}

/**
 * Heartbeats while `fn` runs, so that a worker that dies mid-activity is noticed within the
 * activity's heartbeat timeout (seconds), not its start-to-close timeout.
 */
export async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  // A local activity (the due-time revert's confirmation) has no heartbeat: it lasts seconds at most.
  if (ctx.info.isLocal) return fn();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), 500);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** The current activity's run, absent outside a workflow (a test calling the function). */
export function currentRun(): { workflowId: string; runId: string } | undefined {
  try {
    return Context.current().info.workflowExecution;
  } catch {
    return undefined;
  }
}

/** What the notification activities need of a worker's or an agent's dependencies. */
export function notifyDepsOf(deps: Pick<FaultActivityDeps, 'notify' | 'uiUrl' | 'namespace' | 'env'>) {
  return { notify: deps.notify, uiUrl: deps.uiUrl ?? 'http://127.0.0.1:8233', namespace: deps.namespace ?? 'default', env: deps.env };
}

/**
 * Resolve, inject and revert: the activities that act on targets, run by every worker for the
 * targets of its own host and by a host's agent (src/agent) for the targets there.
 */
export function createFaultActivities(deps: FaultActivityDeps) {
  const dueReverts = deps.dueReverts ?? new DueReverts();
  const metrics = deps.metrics ?? new GamedayMetrics(noopMetricMeter);
  const notifyDeps = notifyDepsOf(deps);
  const commandPolicy = deps.commandPolicy ?? { allowInline: false };
  // On the host that would run them: the orchestrating worker checked the plan, this host checks again with its own catalog.
  const checkFaultCommands = (f: PlannedFault): Promise<void> => checkCommands(commandsOfFault(f.fault, `method.${f.step}.fault`), `fault ${f.id} (${f.description})`, commandPolicy);
  const injectChecked = (f: PlannedFault): Promise<string[]> =>
    heartbeating(() =>
      permanent(async () => {
        await checkFaultCommands(f);
        return inject(deps, f);
      }),
    );
  return {
    /**
     * Checks that this worker sets every secret the experiment references, then resolves every
     * target, enforcing opt-in and blast radius: all before anything is injected. With `scope`
     * (runs whose targets name hosts), only the targets named, and the secrets of those targets
     * and their faults (and, on the orchestrating worker, not `onHost`, of the probes too).
     */
    async resolveTargets(p: ExperimentPlan, scope?: { targets: string[]; onHost?: string }): Promise<ResolvedTarget[]> {
      return permanent(async () => {
        checkSecrets(scope ? scopedSpec(p.spec, scope.targets, scope.onHost !== undefined) : p.spec, scope?.onHost ? `${p.source}, on host ${scope.onHost}` : p.source, deps.env);
        return resolve(deps, p.spec, { allowlist: deps.allowedTargets }, scope?.targets, p.source);
      });
    },

    /** Returns what the inject did, in lines for the run's events (may be none). */
    async injectFault(f: PlannedFault): Promise<string[]> {
      Context.current().log.info(`inject ${f.id}: ${f.description}`);
      const lines = await injectChecked(f);
      const run = currentRun();
      if (run) metrics.faultInjected(run, f.id, f.fault.kind);
      return lines;
    },

    /**
     * Injects, then arms the revert at the fault's due time in this worker (injected now + its
     * duration), which needs no workflow task: under load the workflow's own timer and revert
     * come later, and find the fault reverted already. Returns when it was injected and is due.
     */
    async injectFaultUntilDue(f: PlannedFault): Promise<{ lines: string[]; injectedAt: string; dueAt?: string }> {
      const ctx = Context.current();
      ctx.log.info(`inject ${f.id}: ${f.description}`);
      const lines = await injectChecked(f);
      const injectedAt = Date.now();
      const run = ctx.info.workflowExecution;
      if (run) metrics.faultInjected(run, f.id, f.fault.kind);
      if (f.durationMs === undefined) return { lines, injectedAt: new Date(injectedAt).toISOString() };
      const dueAtMs = injectedAt + f.durationMs;
      const client = deps.client;
      if (client && run) {
        dueReverts.arm({
          key: dueKey(run, f.id),
          dueAtMs,
          fault: f,
          stillInPlace: () => stillInPlace(client, run, f.id),
          revert: () => revert(deps, f),
          onDone: (o) => {
            if (o.reverted) metrics.faultReverted(run, f.id, f.fault.kind, 'due-time', dueAtMs, o.at.getTime());
            else if (o.failed) metrics.revertFailed(run, f.id, f.fault.kind, 'due-time');
            else metrics.faultGone(run, f.id);
            ctx.log.info(o.reverted ? `reverted ${f.id} at its due time` : `no due-time revert of ${f.id}: ${o.why}`);
          },
        });
      }
      return { lines, injectedAt: new Date(injectedAt).toISOString(), dueAt: new Date(dueAtMs).toISOString() };
    },

    /**
     * Idempotent. Runs recorded before bounded histories retry it in rounds from the workflow;
     * newer runs give it a retry policy without limit and `tell: true`: at a few attempts
     * (tellsWorkflowAt) the activity signals the workflow that its rollback is failing, and
     * publishes the event, so a revert failing for hours costs a handful of history events.
     * With `run` (runs since notifications), it also tells the webhooks that want rollbackFailing,
     * in the background: no receiver can delay the next attempt.
     */
    async revertFault(f: PlannedFault, opts: { tell?: boolean; run?: RevertRun } = {}): Promise<string[]> {
      const ctx = Context.current();
      ctx.log.info(`revert ${f.id}: ${f.description}`);
      // The janitor reverts from a closed run's memo, which whoever started the run could have
      // written: its commands run only as an injected fault's would. A run's own revert is never held up.
      if (ctx.info.workflowType !== 'experiment') await permanent(() => checkFaultCommands(f));
      const due = ctx.info.workflowExecution ? await dueReverts.disarm(dueKey(ctx.info.workflowExecution, f.id)) : undefined;
      const run = ctx.info.workflowExecution;
      try {
        const lines = await heartbeating(() => revert(deps, f));
        if (run) metrics.faultReverted(run, f.id, f.fault.kind, 'workflow', f.dueAt ? Date.parse(f.dueAt) : undefined);
        // What the due-time revert did is the news; this second, idempotent one finds it done.
        return due?.reverted ? [`reverted at its due time by the worker that injected it (${due.at.toISOString()})`, ...due.lines, ...lines.map((l) => `then: ${l}`)] : lines;
      } catch (err) {
        if (run) metrics.revertFailed(run, f.id, f.fault.kind, 'workflow');
        const { attempt, workflowExecution } = ctx.info;
        if (opts.tell && workflowExecution && tellsWorkflowAt(attempt)) {
          const failing = { faultId: f.id, description: f.description, attempts: attempt, error: (err as Error).message, since: new Date(ctx.info.scheduledTimestampMs).toISOString() };
          notifyRollbackFailing(notifyDeps, opts.run, {
            ...workflowExecution,
            reason: failing.error,
            fault: { id: f.id, description: f.description, attempts: attempt, since: failing.since },
            at: new Date().toISOString(),
          });
          await Promise.allSettled([
            deps.client?.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId).signal(rollbackFailingSignal, failing),
            deps.eventsNatsUrl ? publish(deps.eventsNatsUrl, 'rollback-failing', { workflowId: workflowExecution.workflowId, ...failing }) : undefined,
          ]);
        }
        throw err;
      }
    },
  };
}

export type FaultActivities = ReturnType<typeof createFaultActivities>;
