import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Journal } from '../types';
import { renderHtml } from './html';
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
  await writeFile(path.join(dir, 'journal.json'), JSON.stringify(journal, null, 2) + '\n');
  await writeFile(path.join(dir, 'report.md'), renderMarkdown(journal, opts));
  await writeFile(path.join(dir, 'report.html'), safeHtml(journal, opts));
  return dir;
}

function safeHtml(journal: Journal, opts: ReportOptions): string {
  try {
    return renderHtml(journal, opts);
  } catch (e) {
    return `<!doctype html><meta charset="utf-8"><title>report of ${escapeHtml(journal.workflowId)}</title><p>The HTML report could not be rendered: ${escapeHtml((e as Error).message)}. report.md beside this file has the whole report.</p>\n`;
  }
}
