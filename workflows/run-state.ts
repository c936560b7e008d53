import { log, setCurrentDetails, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { FAULTS_MEMO, searchAttributes } from '../src/search-attributes';
import type { ExperimentPlan, ExperimentStatus, GuardrailBreach, Journal, PlannedFault, ProbeSample, ProbeWindow, ResolvedTarget, Stage, Verdict } from '../src/types';
import type { NotifyTrigger } from '../src/notify/rules';
import type { RunKey } from '../src/store/types';
import type { FirstRound } from '../activities';
import type { VerifySummary } from '../src/observe/sampling';
import { abortSignal, rollbackFailingSignal, statusQuery } from './definitions';

/** Events the workflow keeps: its own are few (stages, faults, an abort); sampling's go to the store. */
const MAX_EVENTS = 500;

/**
 * The state of one experiment run, and what shows it: the `status` query, the Web UI's current
 * details, the search attributes and the fault ledger in the memo (the janitor's record). The
 * samples are not here: they are in the results store.
 */
export class RunState {
  readonly run: RunKey;
  readonly startedAt = new Date().toISOString();
  stage: Stage = 'resolve';
  verdict?: Verdict;
  reason = '';
  abort?: { reason: string; at: string };
  breach?: GuardrailBreach;
  rollbackFailing: ExperimentStatus['rollbackFailing'];
  plan?: ExperimentPlan;
  /** How the run was started: which webhooks want to hear of it. */
  trigger: NotifyTrigger = 'web-ui';
  targets: ResolvedTarget[] = [];
  readonly faults: PlannedFault[] = [];
  readonly events: Journal['events'] = [];
  eventCount = 0;
  readonly lastProbes: ExperimentStatus['lastProbes'] = {};
  /** Probes that name a host run on its agent (set once the plan is known: workflows/host-probes.ts). */
  probesOnHosts = false;
  /** A fault whose duration is up is reverted in a local activity first (QUICK_STEPS_PATCH: workflows/rollback.ts). */
  revertDueHere = false;
  /** The first verification round is taken in the workflow task of the revert (QUICK_VERIFY_PATCH: workflows/experiment.ts). */
  verifyFirstHere = false;
  /**
   * The first verification round, to be taken in the local activity of the last due-time revert
   * when nothing else samples (QUICK_REPORT_PATCH: workflows/observation.ts), and what it saw.
   */
  firstRound?: FirstRound;
  verifiedAtRevert?: VerifySummary;
  /** When the baseline and the first fault began: probes that count "since the fault" read it. */
  readonly window: ProbeWindow;

  constructor() {
    const info = workflowInfo();
    this.run = { workflowId: info.workflowId, runId: info.runId };
    this.window = { baselineStartedAt: this.startedAt };
    setHandler(abortSignal, (why) => this.halt(why || 'no reason given'));
    setHandler(rollbackFailingSignal, (failing) => {
      // A late signal for a fault reverted meanwhile says nothing any more.
      if (this.faults.find((f) => f.id === failing.faultId)?.status === 'reverted') return;
      this.failing(failing);
    });
    setHandler(statusQuery, () => ({
      experimentId: this.plan?.spec.id ?? '',
      stage: this.stage,
      activeFaults: this.active().map((f) => ({ id: f.id, description: f.description, dueAt: f.dueAt })),
      lastProbes: this.lastProbes,
      verdict: this.verdict,
      rollbackFailing: this.rollbackFailing,
      ...(this.waiting().length ? { waitingOnHost: this.waiting().map((f) => ({ host: f.revertWaited!.host, faultId: f.id, description: f.description, since: f.revertWaited!.since })) } : {}),
      events: this.events.slice(-20),
      eventCount: this.eventCount,
    }));
  }

  halted(): boolean {
    return this.abort !== undefined;
  }

  /** Halts the run: rollback comes next. The first reason given is kept. */
  halt(reason: string, at = new Date().toISOString()): void {
    if (this.abort) return;
    this.abort = { reason, at };
    this.note(`abort requested: ${reason}`);
  }

  note(message: string): void {
    this.eventCount++;
    if (this.events.length < MAX_EVENTS) this.events.push({ at: new Date().toISOString(), stage: this.stage, message });
    log.info(message, { stage: this.stage });
  }

  enter(next: Stage): void {
    this.stage = next;
    this.note(`stage ${next}`);
    upsertSearchAttributes([{ key: searchAttributes.stage, value: next }]);
    this.showDetails();
  }

  /** Samples the workflow itself saw (baseline, verification): shown by the status query. */
  saw(samples: ProbeSample[]): void {
    for (const s of samples) this.lastProbes[s.check] = { at: s.at, ok: s.ok, measurement: s.measurement, error: s.error };
  }

  active(): PlannedFault[] {
    return this.faults.filter((f) => f.status !== 'reverted');
  }

  /** Kept current before each inject and after each revert: the janitor's record of what is in place. */
  publishFaults(): void {
    upsertSearchAttributes([{ key: searchAttributes.activeFaults, value: this.active().map((f) => f.description) }]);
    upsertMemo({ [FAULTS_MEMO]: this.faults });
    this.showDetails();
  }

  failing(failing: NonNullable<ExperimentStatus['rollbackFailing']>): void {
    const f = this.faults.find((x) => x.id === failing.faultId);
    if (f) {
      f.revertAttempts = failing.attempts;
      f.lastRevertError = failing.error;
    }
    this.rollbackFailing = failing;
    upsertSearchAttributes([{ key: searchAttributes.rollbackFailing, value: true }]);
    this.note(`ROLLBACK FAILING: revert of ${failing.faultId} (${failing.description}) failed ${failing.attempts} time(s): ${failing.error}; retrying`);
    this.showDetails();
  }

  /** Faults whose revert waits for an agent of their host. */
  waiting(): PlannedFault[] {
    return this.faults.filter((f) => f.status !== 'reverted' && f.revertWaited);
  }

  /** No agent of `host` took the revert of `f`, asked for `since`: the run says so until one does. */
  waitingOnHost(f: PlannedFault, host: string, since: string): void {
    f.revertWaited = { host, since };
    this.publishWaiting();
    this.note(`REVERT WAITING ON HOST ${host}: no agent of host ${host} took the revert of ${f.id} (${f.description}); it stays in place until one polls (gameday agent --host ${host})`);
    this.showDetails();
  }

  private publishWaiting(): void {
    const hosts = [...new Set(this.waiting().map((f) => f.revertWaited!.host))].sort();
    upsertSearchAttributes([{ key: searchAttributes.waitingOnHost, value: hosts.length ? hosts.join(',') : null }]);
  }

  reverted(f: PlannedFault, lines: string[]): void {
    f.status = 'reverted';
    f.revertedAt = new Date().toISOString();
    const wait = f.revertWaited;
    if (wait) {
      wait.until = f.revertedAt;
      wait.waitedMs = Date.parse(wait.until) - Date.parse(wait.since);
      this.publishWaiting();
    }
    this.publishFaults();
    this.note(`reverted ${f.id} (${f.description}): ${lines.join('; ')}${wait ? ` (the revert waited ${(wait.waitedMs! / 1000).toFixed(1)} s on host ${wait.host})` : ''}`);
    if (this.rollbackFailing?.faultId === f.id) {
      this.rollbackFailing = undefined;
      upsertSearchAttributes([{ key: searchAttributes.rollbackFailing, value: false }]);
      this.showDetails();
    }
  }

  /** The run's current details in the Web UI: the stage and the faults in place. */
  showDetails(): void {
    const faultsNow = this.active().map((f) => `- ${f.description}${f.dueAt ? ` (until ${f.dueAt})` : ''}`);
    setCurrentDetails(
      [
        `**Stage:** ${this.stage}`,
        faultsNow.length ? `**Faults in place:**\n${faultsNow.join('\n')}` : '**Faults in place:** none',
        this.rollbackFailing ? `**ROLLBACK FAILING:** ${this.rollbackFailing.description}: ${this.rollbackFailing.error}` : '',
        ...this.waiting().map((f) => `**Revert waiting on host ${f.revertWaited!.host}** since ${f.revertWaited!.since}: ${f.description} (no agent of that host polls)`),
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  }
}
