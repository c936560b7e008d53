import { mkdir, writeFile } from 'node:fs/promises';
import { maskPasswords, maskPasswordsIn } from '../mask';
import path from 'node:path';
import type { ScenarioJournal } from '../types';
import { reportDirFor } from './write';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The scenario's report: which stage ran when, how each ended, and which broke what. */
export function renderScenarioMarkdown(j: ScenarioJournal): string {
  const rows = j.stages.map((s) =>
    [s.name, s.status, s.startedAt ?? '', s.finishedAt ?? '', s.result ? `${s.result.verdict}: ${s.result.reason}` : (s.skippedBecause ?? ''), s.result?.rollback ?? '', s.result?.reportDir ? `${s.result.reportDir}/report.md` : ''].map(cell),
  );
  const broken = j.stages.filter((s) => s.result && s.result.verdict !== 'passed');
  const skipped = j.stages.filter((s) => s.status === 'skipped');
  return [
    `# ${j.scenarioId} — ${j.title}`,
    '',
    `**Verdict: ${j.result.verdict.toUpperCase()}** — ${j.result.reason}`,
    '',
    `Iteration ${j.iteration} of ${j.repeat} · workflow \`${j.workflowId}\` · started ${j.startedAt} · finished ${j.finishedAt} · spec ${j.source}`,
    '',
    '## Hypothesis',
    '',
    j.hypothesis,
    '',
    '## Stages',
    '',
    '| Stage | Status | Started | Finished | Outcome | Rollback | Report |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    '## What broke what',
    '',
    ...(broken.length === 0 && skipped.length === 0
      ? ['Every stage passed.']
      : [
          ...broken.map((s) => `- **${s.name}** ended ${s.result!.verdict}: ${s.result!.reason}`),
          ...skipped.map((s) => `- **${s.name}** did not start: ${s.skippedBecause}`),
        ]),
    ...(j.abort ? ['', `Aborted at ${j.abort.at}: ${j.abort.reason}`] : []),
    ...(j.previousIterations.length
      ? ['', '## Earlier iterations', '', ...j.previousIterations.map((p) => `- ${p.iteration}: ${p.verdict} — ${p.reason} (${p.reportDir})`)]
      : []),
    '',
  ].join('\n');
}

/** Writes scenario.json and report.md to `<reportsDir>/<workflowId>-<iteration>`; returns the folder. */
export async function writeScenarioReport(reportsDir: string, j: ScenarioJournal): Promise<string> {
  const dir = reportDirFor(reportsDir, `${j.workflowId}-${j.iteration}`);
  await mkdir(dir, { recursive: true });
  const shown = maskPasswordsIn(j);
  await writeFile(path.join(dir, 'scenario.json'), JSON.stringify(shown, null, 2) + '\n');
  await writeFile(path.join(dir, 'report.md'), maskPasswords(renderScenarioMarkdown(shown)));
  return dir;
}
