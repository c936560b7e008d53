import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { FAULTS_MEMO } from './search-attributes';
import type { PlannedFault } from './types';

/** A closed experiment that still records faults as not reverted. */
export interface Orphan {
  workflowId: string;
  runId: string;
  status: string;
  /** When the run closed (ISO); absent when the server did not say. */
  closedAt?: string;
  /**
   * The run id of a newer run of the same workflow that is running: the run was reset, and its
   * new run believes the faults of before the reset point to be its own.
   */
  continuedBy?: string;
  faults: PlannedFault[];
}

/** One fault of one run, as the janitor's memory keys it. */
export interface FaultKey {
  workflowId: string;
  runId: string;
  faultId: string;
  /** When its run closed (ISO): how long the memory has to keep it. */
  closedAt?: string;
}

/**
 * What a janitor run hands to the next one (its result's `memory`), so that the next run looks
 * only at runs closed since (minus a margin for the server's visibility lag) and skips what was
 * handled within that margin, while retrying what was not.
 */
export interface JanitorMemory {
  /** When this run listed closed experiments (the activity's clock, ISO). */
  listedAt: string;
  /** Faults reverted or found gone, of runs closed recently enough to be listed again. */
  handled: FaultKey[];
  /** Faults whose revert failed or whose target was busy: the next run tries them again. */
  pending: FaultKey[];
}

/** What the janitor's search found, and the memory it started from. */
export interface OrphanSearch {
  orphans: Orphan[];
  /** When the list was made (ISO). */
  listedAt: string;
  /** Runs closed after this were listed (ISO). */
  since: string;
  /** The previous run whose memory this search used, when there was one. */
  previous?: { workflowId: string; memory: JanitorMemory };
  /** How long after a run closed the memory keeps its handled faults (MEMORY_MARGIN_MS). */
  marginMs: number;
}

export interface OrphanQuery {
  /** How far back to look when there is no memory to start from. */
  lookbackMs: number;
  /** Only experiments that ran on this task queue (tests scope their janitor to their own runs). */
  taskQueue?: string;
  /** The schedule whose previous runs' results are this run's memory. */
  scheduleId?: string;
  /** This janitor run's workflow id, never its own memory. */
  self?: string;
}

/** How far before the previous run's list a run lists again: covers the server's visibility lag. */
export const MEMORY_MARGIN_MS = 60_000;

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function unreverted(client: Client, workflowId: string, runId: string): Promise<Orphan | undefined> {
  try {
    const desc = await client.workflow.getHandle(workflowId, runId).describe();
    const recorded = (desc.memo?.[FAULTS_MEMO] ?? []) as PlannedFault[];
    const faults = recorded.filter((f) => f.status !== 'reverted');
    const orphan: Orphan = { workflowId, runId, status: desc.status.name, closedAt: desc.closeTime?.toISOString(), faults };
    if (faults.length === 0) return orphan;
    const latest = await client.workflow.getHandle(workflowId).describe();
    return latest.runId !== runId && latest.status.name === 'RUNNING' ? { ...orphan, continuedBy: latest.runId } : orphan;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined; // past the namespace's retention
    throw e;
  }
}

/**
 * The memory of the newest completed run the schedule started (its recent actions, newest
 * first). A run that failed or timed out left none: the one before it counts.
 */
export async function previousMemory(client: Client, scheduleId: string, self?: string): Promise<OrphanSearch['previous']> {
  let actions;
  try {
    actions = (await client.schedule.getHandle(scheduleId).describe()).info.recentActions;
  } catch {
    return undefined; // no schedule (deleted meanwhile): start from the lookback
  }
  const newestFirst = [...actions].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
  for (const a of newestFirst) {
    const wf = a.action.workflow;
    if (wf.workflowId === self) continue;
    const handle = client.workflow.getHandle(wf.workflowId, wf.firstExecutionRunId);
    const desc = await handle.describe().catch(() => undefined);
    if (desc?.status.name !== 'COMPLETED') continue;
    const result = (await handle.result()) as { memory?: JanitorMemory } | undefined;
    if (result?.memory?.listedAt) return { workflowId: wf.workflowId, memory: result.memory };
  }
  return undefined;
}

/**
 * Finds experiments that closed (terminated, timed out, failed) with faults still recorded as
 * active: the workflow keeps the `GamedayActiveFaults` search attribute and its `gamedayFaults`
 * memo current before each inject and after each revert, and a run that was terminated had no
 * chance to clear them. With a memory (the schedule's previous run), it lists only runs closed
 * since that run listed, minus a margin, plus the runs of the faults it left pending; without
 * one, the last `lookbackMs`.
 */
export async function findOrphanedFaults(client: Client, q: OrphanQuery, now = new Date()): Promise<OrphanSearch> {
  const previous = q.scheduleId ? await previousMemory(client, q.scheduleId, q.self) : undefined;
  const floor = now.getTime() - q.lookbackMs;
  const from = previous ? Math.max(floor, Date.parse(previous.memory.listedAt) - MEMORY_MARGIN_MS) : floor;
  const since = new Date(from).toISOString();
  const scope = q.taskQueue ? ` AND TaskQueue = ${quote(q.taskQueue)}` : '';
  const query = `WorkflowType = 'experiment' AND ExecutionStatus != 'Running' AND GamedayActiveFaults IS NOT NULL AND CloseTime > '${since}'${scope}`;
  const byRun = new Map<string, Orphan>();
  for await (const wf of client.workflow.list({ query })) {
    const found = await unreverted(client, wf.workflowId, wf.runId);
    if (found && found.faults.length > 0) byRun.set(`${wf.workflowId}/${wf.runId}`, found);
  }
  // Pending faults are retried whenever their run closed, as long as it is within the lookback.
  for (const p of previous?.memory.pending ?? []) {
    const run = `${p.workflowId}/${p.runId}`;
    if (byRun.has(run) || (p.closedAt && Date.parse(p.closedAt) < floor)) continue;
    const found = await unreverted(client, p.workflowId, p.runId);
    if (found && found.faults.length > 0) byRun.set(run, found);
  }
  return { orphans: [...byRun.values()], listedAt: now.toISOString(), since, previous, marginMs: MEMORY_MARGIN_MS };
}

/** Who holds a lock: "experiment <id>", "janitor <id>", or the lock's id when it cannot tell. */
export async function describeLockHolder(client: Client, lockWorkflowId: string): Promise<string> {
  const lock = client.workflow.getHandle(lockWorkflowId);
  let holder: string | undefined;
  try {
    const desc = await lock.describe();
    holder = desc.parentExecution?.workflowId ?? undefined;
    if (!holder) {
      // Started without a parent (by hand): its input names the holder.
      const history = await lock.fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      if (input?.data) holder = (JSON.parse(Buffer.from(input.data).toString('utf8')) as { workflowId?: string }).workflowId;
    }
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return `lock ${lockWorkflowId}, which has ended meanwhile`;
    throw e;
  }
  if (!holder) return `lock ${lockWorkflowId}`;
  const type = await client.workflow
    .getHandle(holder)
    .describe()
    .then((d) => d.type)
    .catch(() => undefined);
  return type ? `${type} ${holder}` : `workflow ${holder}`;
}

/**
 * Ends a lock whose holder has closed, as the server's parent close policy (TERMINATE) is about to:
 * a run that ends with its report in a local activity leaves its locks to that policy, which acts
 * a moment after the close, and the next run on the target must not find them still there. True
 * when the lock is free now (ended, or terminated here); false while its holder runs, or when it
 * has no parent (a lock started by hand holds until it is ended by hand).
 */
export async function freeLockOfClosedHolder(client: Client, lockWorkflowId: string): Promise<boolean> {
  try {
    const lock = await client.workflow.getHandle(lockWorkflowId).describe();
    if (lock.status.name !== 'RUNNING') return true;
    const parent = lock.parentExecution;
    if (!parent?.workflowId) return false;
    const holder = await client.workflow.getHandle(parent.workflowId, parent.runId ?? undefined).describe();
    if (holder.status.name === 'RUNNING') return false;
    // This run of the lock only: one started since (by the next holder) is not ours to end.
    await client.workflow
      .getHandle(lockWorkflowId, lock.runId)
      .terminate(`its holder ${parent.workflowId} has closed`)
      .catch((e: unknown) => {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
      });
    return true;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return true;
    throw e;
  }
}
