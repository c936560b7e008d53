import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { maskPasswords, maskPasswordsIn } from '../mask';
import { maskUrl } from '../notify/send';
import type { Journal } from '../types';
import { renderHtml, type HtmlReportOptions } from './html';
import { escapeHtml } from './html-text';
import { renderMarkdown } from './markdown';
import type { ReportOptions } from './sections';

/** The folder a run's report goes to: `<reportsDir>/<workflowId>`. */
export function reportDirFor(reportsDir: string, workflowId: string): string {
  return path.join(reportsDir, workflowId.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/**
 * Writes journal.json, report.md and report.html; returns the folder. Rewriting the same run
 * overwrites them. Should the HTML fail to render, report.html says why and the rest stands: a
 * chart is never a reason to hold back a run's end.
 */
export async function writeReport(reportsDir: string, journal: Journal, opts: ReportOptions = {}): Promise<string> {
  const dir = reportDirFor(reportsDir, journal.workflowId);
  await mkdir(dir, { recursive: true });
  // A password typed into a URL of the spec is shown as *** in all three (secret references stay as written), and webhook URLs too.
  const shown = withMaskedWebhooks(maskPasswordsIn(journal));
  await writeFile(path.join(dir, 'journal.json'), JSON.stringify(shown, null, 2) + '\n');
  await writeFile(path.join(dir, 'report.md'), maskPasswords(renderMarkdown(shown, opts)));
  await writeFile(path.join(dir, 'report.html'), maskPasswords(safeHtml(shown, opts)));
  return dir;
}

/** The HTML report, or a page saying why it could not be rendered. */
export function safeHtml(journal: Journal, opts: HtmlReportOptions): string {
  try {
    return renderHtml(journal, opts);
  } catch (e) {
    return `<!doctype html><meta charset="utf-8"><title>report of ${escapeHtml(journal.workflowId)}</title><p>The HTML report could not be rendered: ${escapeHtml((e as Error).message)}. report.md beside this file has the whole report.</p>\n`;
  }
}

/** The journal with the experiment's webhook URLs masked: a Slack hook's URL is its secret. */
export function withMaskedWebhooks(journal: Journal): Journal {
  const plan = journal.plan;
  if (!plan?.spec.notify) return journal;
  return { ...journal, plan: { ...plan, spec: { ...plan.spec, notify: plan.spec.notify.map((n) => ({ ...n, url: maskUrl(n.url) })) } } };
}
