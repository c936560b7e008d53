/**
 * What the Markdown and HTML reports share beyond the journal: sections another part of Gameday
 * passes in (the re-validation against the previous run), and the method's closing lists.
 */
import type { NextExperiment } from '../spec/schema';
import type { Journal } from '../types';

/**
 * A section a caller adds to a report, placed after Remediation as the method orders it (the
 * Re-validation section, comparing the run with the previous one, is one). `html` is trusted
 * markup for the HTML report; without it, the HTML report shows `markdown` as escaped text.
 */
export interface ReportSection {
  title: string;
  markdown: string;
  html?: string;
}

/** How a report is rendered beyond the journal. */
export interface ReportOptions {
  /** Sections placed after Remediation, in this order. */
  sections?: ReportSection[];
}

/** The experiment file's lessons learned; empty when it gives none (or did not load). */
export function lessonsOf(j: Journal): string[] {
  return j.plan?.spec.lessonsLearned ?? [];
}

/** The experiment file's next experiments, each as a description and an optional experiment id. */
export function nextExperimentsOf(j: Journal): { description: string; experiment?: string }[] {
  return (j.plan?.spec.nextExperiments ?? []).map((n: NextExperiment) => (typeof n === 'string' ? { description: n } : n));
}
