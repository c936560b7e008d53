import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { maskPasswords, maskPasswordsIn } from '../mask';
import { maskUrl } from '../notify/send';
import type { Journal } from '../types';
import { renderMarkdown } from './markdown';

/** The folder a run's report goes to: `<reportsDir>/<workflowId>`. */
export function reportDirFor(reportsDir: string, workflowId: string): string {
  return path.join(reportsDir, workflowId.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/** Writes journal.json and report.md; returns the folder. Rewriting the same run overwrites it. */
export async function writeReport(reportsDir: string, journal: Journal): Promise<string> {
  const dir = reportDirFor(reportsDir, journal.workflowId);
  await mkdir(dir, { recursive: true });
  // A password typed into a URL of the spec is shown as *** in both (secret references stay as written).
  const shown = withMaskedWebhooks(maskPasswordsIn(journal));
  await writeFile(path.join(dir, 'journal.json'), JSON.stringify(shown, null, 2) + '\n');
  await writeFile(path.join(dir, 'report.md'), maskPasswords(renderMarkdown(shown)));
  return dir;
}

/** The journal with the experiment's webhook URLs masked: a Slack hook's URL is its secret. */
function withMaskedWebhooks(journal: Journal): Journal {
  const plan = journal.plan;
  if (!plan?.spec.notify) return journal;
  return { ...journal, plan: { ...plan, spec: { ...plan.spec, notify: plan.spec.notify.map((n) => ({ ...n, url: maskUrl(n.url) })) } } };
}
