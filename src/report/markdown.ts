import { commandText } from '../commands/command';
import { describeTolerance } from '../probes/tolerance';
import type { ProbeSpec } from '../spec/schema';
import { manualRevert, targetRefs } from '../faults/describe';
import type { Journal, ProbeSample } from '../types';
import { revalidationMarkdown } from './revalidation';
import { maskPasswords } from '../mask';
import { rollbackProcedure } from './procedure';
import { lessonsOf, nextExperimentsOf, type ReportOptions } from './sections';
import { digestOf, SAMPLES_SHOWN, type SampleDigest } from './digest';

/**
 * Renders the run as the Markdown report of the method (METHOD.md): one section per heading,
 * the sections of `opts` after Remediation. What it shows of the samples comes from `digest`; a
 * report streamed from the store passes the digest of its one pass (and a journal whose sample
 * arrays may be empty), any other caller lets it be computed from the journal's arrays.
 */
export function renderMarkdown(j: Journal, opts: ReportOptions = {}, digest: SampleDigest = digestOf(j)): string {
  return [
    header(j),
    section('Hypothesis', j.hypothesis || '_none: the experiment did not load_'),
    steadyStateSection(j, digest),
    designSection(j),
    resultsSection(j, digest),
    hypothesisSection(j),
    section('Remediation', remediation(j)),
    revalidationMarkdown(j),
    ...(opts.sections ?? []).map((x) => section(x.title, x.markdown)),
    rollbackSection(j),
    procedureSection(j),
    summarySection(j),
    section('Lessons learned', bullets(lessonsOf(j), '_none recorded: add `lessonsLearned` to the experiment file_')),
    section('Next experiments', bullets(nextExperimentsOf(j).map((n) => (n.experiment ? `**${n.experiment}**: ${n.description}` : n.description)), '_none planned: add `nextExperiments` to the experiment file_')),
  ].join('\n\n') + '\n';
}

/** success / partial / failure, as the method's summary reads. */
export function outcome(j: Journal): string {
  switch (j.verdict) {
    case 'passed':
      return 'success';
    case 'failed':
      return j.hypothesisVsReality.some((r) => r.ok && r.when !== 'baseline') ? 'partial: part of the hypothesis was disproved' : 'failure: the hypothesis was disproved';
    case 'aborted':
      return 'aborted';
    case 'not-run':
      return 'not run: the steady state did not hold';
    case 'error':
      return 'error: the experiment could not be carried out';
    case 'skipped':
      return 'skipped: a scheduled run inside a freeze window';
  }
}

function header(j: Journal): string {
  const faults = j.rollback.faults.length;
  return [
    `# ${j.experimentId}${j.title ? ` — ${j.title}` : ''}`,
    '',
    `**Verdict: ${j.verdict.toUpperCase()}** — ${j.reason}`,
    '',
    `**Rollback: ${j.rollback.status}** (${faults} fault${faults === 1 ? '' : 's'} attempted, ${j.rollback.faults.filter((f) => f.status === 'reverted').length} reverted)`,
    '',
    `Workflow \`${j.workflowId}\` (run \`${j.runId}\`) · started ${j.startedAt} · finished ${j.finishedAt} · ${Math.round((Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 100) / 10} s · spec ${j.source || 'unknown'}`,
  ].join('\n');
}

function section(title: string, body: string): string {
  return `## ${title}\n\n${body}`;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '_none_';
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function describeProbe(p: ProbeSpec): string {
  switch (p.kind) {
    case 'http':
      return `HTTP ${p.method ?? 'GET'} ${p.url}`;
    case 'nats-stream':
      return `JetStream stream ${p.stream} at ${p.url}`;
    case 'nats-consumer':
      return `JetStream consumer ${p.stream}/${p.consumer} at ${p.url}`;
    case 'nats-publish':
      return `JetStream publish to ${p.subject} at ${p.url}`;
    case 'postgres':
      return `PostgreSQL query \`${p.query}\``;
    case 'docker-container':
      return `docker inspect ${p.container}`;
    case 'docker-logs':
      return `lines of ${p.container}'s log matching /${p.pattern}/ ${logsWindow(p.since)}`;
    case 'http-latency':
      return `${p.requests ?? 10} × HTTP ${p.method ?? 'GET'} ${p.url} over ${p.window ?? '1s'}`;
    case 'command':
      return `command \`${commandText(p.command)}\` ${p.container ? `in container ${p.container}` : "on the worker's host"}${p.match ? `, output matching /${p.match}/` : ''}`;
    case 'websocket':
      return `WebSocket ${p.url}, listened to for ${p.window ?? '1s'}${p.connection === 'fresh' ? ' on a fresh connection' : ''}`;
  }
}

function logsWindow(since: string | undefined): string {
  if (since === 'baseline') return 'since the baseline began';
  if (since === undefined || since === 'fault') return 'since the first fault (before it: since the baseline)';
  return `in the last ${since}`;
}

function values(s: ProbeSample | undefined): string {
  if (!s) return 'not measured';
  const shown = Object.entries(s.measurement)
    .filter(([k, v]) => k !== 'error' && k !== 'body' && v !== '')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return (s.error ? [`error: ${s.error}`, ...shown] : shown).join(', ');
}

function steadyStateSection(j: Journal, d: SampleDigest): string {
  const checks = j.plan?.spec.steadyState ?? [];
  const rows = checks.map((c) => [
    c.name,
    describeProbe(c.probe),
    Object.entries(c.expect).map(([f, t]) => `${f} ${describeTolerance(t)}`).join(', '),
    values(d.baseline.find((s) => s.check === c.name)),
  ]);
  return section('Steady state definition', table(['Indicator', 'Probe', 'Healthy when', 'Baseline value'], rows));
}

function designSection(j: Journal): string {
  if (!j.plan) return section('Experiment design', '_the experiment did not load_');
  const { spec, timing } = j.plan;
  const targets = j.targets.length
    ? j.targets.map((t) => `- **${t.name}**: ${t.selector} → ${targetRefs(t).map((c) => ((t.kind ?? 'docker') === 'docker' ? `${c.name} (${c.id.slice(0, 12)})` : c.name)).join(', ')}`)
    : Object.entries(spec.targets).map(([n, t]) => `- **${n}**: ${JSON.stringify(t)} (not resolved)`);
  const steps = spec.method.map((m, i) => `${i + 1}. ${m.fault.kind} on target ${m.fault.target} for ${m.duration}`);
  const probes = (spec.observe?.probes ?? []).map((p) => `- ${p.name}: ${describeProbe(p.probe)}`);
  return section(
    'Experiment design',
    [
      `**Blast radius:** ${spec.blastRadius ?? `the targets below and what depends on them`}`,
      '',
      '**Targets**',
      ...targets,
      '',
      '**Injection steps**',
      ...steps,
      '',
      `**Observation:** every ${timing.observeIntervalMs} ms while a fault is in place${probes.length ? ':' : ' (no observe probes)'}`,
      ...probes,
      '',
      `**Recovery window:** the steady state must return within ${timing.recoveryWithinMs / 1000} s of ${timing.recoveryAfterMs ? `the first verification, ${timing.recoveryAfterMs / 1000} s after rollback` : 'rollback'}.`,
    ].join('\n'),
  );
}

function resultsSection(j: Journal, d: SampleDigest): string {
  const events = j.events.map((e) => `- ${e.at} [${e.stage}] ${e.message}`);
  const summary = [...d.observations.byCheck.entries()].map(([check, p]) => [
    check,
    String(p.samples),
    String(p.errors),
    p.latencyMin === undefined ? '' : `${p.latencyMin}–${p.latencyMax}`,
    p.errorsSeen.join('; '),
  ]);
  const row = (s: ProbeSample): string[] => [s.at.slice(11, 23), s.check, s.ok ? 'ok' : 'MISS', values(s)];
  // A long run has up to millions of samples: the report shows the first and the last, journal.json has all.
  const { count, head, tail } = d.observations;
  const shown = count > 2 * SAMPLES_SHOWN ? [...head.map(row), ['…', `${count - 2 * SAMPLES_SHOWN} more samples in journal.json`, '', ''], ...tail.map(row)] : [...head, ...tail].map(row);
  return section(
    'Execution results',
    [
      '**Timeline**',
      '',
      ...(events.length ? events : ['_no events_']),
      '',
      '**During the fault, per probe**',
      '',
      table(['Probe', 'Samples', 'Errors', 'Latency ms (min–max)', 'Errors seen'], summary),
      '',
      '**Guardrails**',
      '',
      guardrailsTable(j, d),
      '',
      '**Before and after**',
      '',
      beforeAfter(d),
      '',
      '**Samples**',
      '',
      table(['Time (UTC)', 'Probe', 'Met', 'Values'], shown),
    ].join('\n'),
  );
}

function guardrailsTable(j: Journal, d: SampleDigest): string {
  const names = j.plan?.spec.guardrails?.map((g) => g.name) ?? [];
  if (names.length === 0) return '_none defined_';
  const rows = names.map((name) => {
    const breached = j.breach?.guardrail === name ? j.breach : undefined;
    return [name, String(d.guardrails.get(name) ?? 0), breached ? `BREACHED at ${breached.at}: ${breached.observed} (abort when ${breached.condition})` : 'held'];
  });
  return table(['Guardrail', 'Samples', 'Outcome'], rows);
}

/** Every numeric indicator of the steady state, at baseline and after recovery, with the change. */
function beforeAfter(d: SampleDigest): string {
  const rows: string[][] = [];
  for (const before of d.baseline) {
    const after = d.verification.first.get(before.check);
    for (const [field, value] of Object.entries(before.measurement)) {
      if (typeof value !== 'number' || field === 'latencyMs') continue;
      const later = after?.measurement[field];
      const change = typeof later === 'number' ? later - value : undefined;
      rows.push([before.check, field, String(value), later === undefined ? 'not measured' : String(later), change === undefined ? '' : change > 0 ? `+${change}` : String(change)]);
    }
  }
  return table(['Indicator', 'Field', 'Baseline', 'After recovery', 'Change'], rows);
}

function hypothesisSection(j: Journal): string {
  const rows = j.hypothesisVsReality.map((r) => [r.expectation, r.when, r.expected, r.observed, r.ok ? 'PASS' : 'FAIL']);
  return section('Hypothesis vs reality', table(['Expectation', 'When', 'Expected', 'Observed', 'Verdict'], rows));
}

function remediation(j: Journal): string {
  const failing = j.hypothesisVsReality.filter((r) => !r.ok && r.when !== 'baseline');
  if (j.verdict === 'passed') return 'None needed: the hypothesis held.' + (j.plan?.spec.remediation ? `\n\nNotes from the experiment: ${j.plan.spec.remediation}` : '');
  if (j.verdict === 'skipped') return `None: the run was skipped, nothing injected. Freeze window ${j.freeze?.window ?? ''}: ${j.freeze?.reason ?? j.reason}.`;
  if (j.verdict === 'not-run') return 'Bring the system to its steady state (see the baseline values above), then run the experiment again.';
  const lines = failing.map((r) => `- **${r.expectation}** (${r.when}): expected ${r.expected}; observed ${r.observed}.`);
  if (j.plan?.spec.remediation) lines.push('', j.plan.spec.remediation);
  return lines.length ? lines.join('\n') : `See the reason above: ${j.reason}`;
}

/** A line per revert that waited for an agent of its host, and how long; none when none waited. */
function hostWaits(j: Journal): string[] {
  const lines = j.rollback.faults.flatMap((f) => {
    const w = f.revertWaited;
    if (!w) return [];
    const waited = w.waitedMs !== undefined ? `waited ${(w.waitedMs / 1000).toFixed(1)} s, from ${w.since} to ${w.until}` : `was still waiting at the end of the run, since ${w.since}`;
    return [`- **The revert of ${f.id} waited on host ${w.host}**: no agent of host ${w.host} polled when it was due; it ${waited}, until an agent of that host took it.`];
  });
  return lines.length ? [...lines, ''] : [];
}

function rollbackSection(j: Journal): string {
  const rows = j.rollback.faults.map((f) => [
    f.id,
    f.description,
    f.status,
    f.injectedAt ?? (f.error ? `failed: ${f.error}` : 'attempted'),
    f.dueAt ?? '',
    f.revertedAt ?? 'NOT REVERTED',
    f.revertAttempts ? `${f.revertAttempts} failed round(s); last error: ${f.lastRevertError ?? ''}` : 'first',
    `\`${maskPasswords(manualRevert(f))}\``,
  ]);
  return section(
    'Rollback record',
    [
      table(['Fault', 'What', 'Status', 'Injected', 'Due', 'Reverted', 'Revert attempts', 'Manual procedure'], rows),
      '',
      ...hostWaits(j),
      'Every fault whose injection was attempted is reverted, newest first, whatever ends the run; reverts are idempotent and retried until they succeed.',
    ].join('\n'),
  );
}

function bullets(items: string[], none: string): string {
  return items.length ? items.map((i) => `- ${i.replace(/\n/g, ' ')}`).join('\n') : none;
}

function procedureSection(j: Journal): string {
  const steps = rollbackProcedure(j.rollback.faults);
  if (steps.length === 0) return section('Rollback procedure', 'Nothing was injected: nothing to undo.');
  const lines = steps.map((s, i) => [`${i + 1}. **${s.id}** ${s.description} (${s.state})`, `   - undo: \`${s.revert}\``, ...(s.check ? [`   - check: \`${s.check.command}\` ${s.check.shows}`] : [])].join('\n'));
  return section('Rollback procedure', ['Should a revert ever fail, undo the faults by hand, newest first:', '', ...lines].join('\n'));
}

function summarySection(j: Journal): string {
  const failing = j.hypothesisVsReality.filter((r) => !r.ok).length;
  return section(
    'Summary',
    [
      `- Outcome: **${outcome(j)}**`,
      `- Expectations: ${j.hypothesisVsReality.length - failing} passed, ${failing} failed`,
      `- Rollback: ${j.rollback.status}`,
      ...(j.freeze ? [`- Skipped: inside the freeze window ${j.freeze.window}: ${j.freeze.reason}`] : []),
      ...(j.abort ? [`- Aborted at ${j.abort.at}: ${j.abort.reason}`] : []),
      ...(j.breach ? [`- Stopped by guardrail '${j.breach.guardrail}' at ${j.breach.at}: ${j.breach.observed}`] : []),
      ...(j.store?.waitedMs ? [`- The results store was unreachable when the run ended: this report waited ${Math.round(j.store.waitedMs / 1000)} s for it (${j.store.attempts} attempts); the faults were reverted first`] : []),
      ...(j.store?.missingSamples ? [`- ${j.store.missingSamples} samples never reached the results store (a worker died with them, or the store's queue was full)`] : []),
      ...(j.store?.samplesPrunedAt ? [`- The run's samples were pruned from the results store at ${j.store.samplesPrunedAt} (GAMEDAY_RESULTS_RETENTION): the verdict, hypothesis rows and rollback record above are as recorded, the sample counts are of what is left`] : []),
    ].join('\n'),
  );
}
