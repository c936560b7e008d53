/**
 * A run's report straight from the results store, in bounded memory whatever the run's length:
 * one pass over its samples streams the journal as JSON sample by sample (byte for byte what
 * `JSON.stringify(journal, null, 2)` writes, so every reader of it keeps working), and keeps the
 * digest the Markdown report is rendered from and the thinned samples the HTML charts draw.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { PHASE_FIELD } from '../store/rows';
import type { RunReader, SamplePhase } from '../store/types';
import type { Journal, ProbeSample } from '../types';
import { maskPasswords, maskPasswordsIn } from '../mask';
import { DigestBuilder, type SampleDigest } from './digest';
import { renderMarkdown } from './markdown';
import type { ReportOptions } from './sections';
import { ChartThinner } from './thin';
import { reportDirFor, safeHtml, withMaskedWebhooks } from './write';

/** Written to the stream in pieces of about this many characters. */
const CHUNK = 1 << 16;

/**
 * Completes the journal once every sample has been seen: the fields it changes or adds
 * (hypothesis rows, store notes) must come after the samples in the journal, as they do.
 */
export type FinishJournal = (head: Journal, digest: SampleDigest) => Journal | Promise<Journal>;

/** What one pass over a run leaves, of a size fixed by its checks, not by its length. */
export interface ReportPass {
  /** The journal as reports show it (passwords and webhook URLs masked), its sample arrays empty. */
  shown: Journal;
  digest: SampleDigest;
  /** The samples the charts need, by phase, and each chart group's true sample count. */
  charts: ReturnType<ChartThinner['done']>;
}

/**
 * Reads every sample of the run once, phase by phase: digests them, thins them for the charts
 * and, given `json`, writes the journal to it (the caller ends it). `finish` completes the journal.
 */
export async function passOverRun(run: RunReader, finish: FinishJournal = (head) => head, json?: ChunkedWriter): Promise<ReportPass> {
  const out = json ?? new ChunkedWriter();
  const written = new Set<string>();
  const sampleFields = new Set<string>(Object.values(PHASE_FIELD));
  // JSON.stringify leaves out a key whose value is undefined: so does this.
  let entries = 0;
  const key = (name: string): string => `${entries++ ? ',\n' : ''}  ${JSON.stringify(name)}: `;
  // A password typed into a URL of the spec is shown as *** (secret references stay as written).
  const entry = async (name: string, value: unknown): Promise<void> => {
    written.add(name);
    if (value !== undefined && json) await out.write(key(name) + JSON.stringify(maskPasswordsIn(value), null, 2).replace(/\n/g, '\n  '));
  };
  await out.write('{\n');
  for (const [name, value] of Object.entries(withMaskedWebhooks(run.head))) {
    if (sampleFields.has(name)) break;
    await entry(name, value);
  }
  const digest = new DigestBuilder();
  const start = Date.parse(run.head.startedAt) / 1000;
  const thinner = new ChartThinner([start, Math.max(start + 1, Date.parse(run.head.finishedAt) / 1000)]);
  for (const phase of Object.keys(PHASE_FIELD) as SamplePhase[]) {
    const field = PHASE_FIELD[phase];
    written.add(field);
    if (json) await out.write(`${key(field)}[`);
    let n = 0;
    for await (const s of run.samples(phase)) {
      take(digest, phase, s);
      thinner.add(phase, s);
      if (json) await out.write(`${n++ ? ',' : ''}\n    ${JSON.stringify(maskPasswordsIn(s), null, 2).replace(/\n/g, '\n    ')}`);
    }
    if (json) await out.write(n ? '\n  ]' : ']');
  }
  const done = digest.done();
  const journal = await finish(run.head, done);
  for (const [name, value] of Object.entries(journal)) if (!written.has(name)) await entry(name, value);
  await out.write('\n}\n');
  await out.flush();
  return { shown: withMaskedWebhooks(maskPasswordsIn(journal)), digest: done, charts: thinner.done() };
}

/** The Markdown report of a pass. */
export function markdownOf(pass: ReportPass, opts: ReportOptions = {}): string {
  return maskPasswords(renderMarkdown(pass.shown, opts, pass.digest));
}

/** The HTML report of a pass: its charts draw the thinned samples, as many points as every sample would give them. */
export function htmlOf(pass: ReportPass, opts: ReportOptions = {}): string {
  const { samples, counts } = pass.charts;
  const charted = { ...pass.shown, baseline: samples.baseline, observations: samples.observe, guardrails: samples.guardrail, verification: samples.verify };
  return maskPasswords(safeHtml(maskPasswordsIn(charted), { ...opts, counts }));
}

/**
 * Writes `<reportsDir>/<workflowId>/journal.json`, report.md and report.html from the run being
 * read, overwriting an earlier report (journal.json is replaced whole, never left half written).
 * Returns the folder.
 */
export async function writeReportFrom(reportsDir: string, run: RunReader, finish?: FinishJournal, opts: ReportOptions = {}): Promise<string> {
  const dir = reportDirFor(reportsDir, run.head.workflowId);
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, 'journal.json');
  const partial = `${target}.${process.pid}.partial`;
  const out = new ChunkedWriter(createWriteStream(partial));
  try {
    const pass = await passOverRun(run, finish, out);
    await out.end();
    await rename(partial, target);
    await Promise.all([writeFile(path.join(dir, 'report.md'), markdownOf(pass, opts)), writeFile(path.join(dir, 'report.html'), htmlOf(pass, opts))]);
    return dir;
  } catch (e) {
    out.destroy();
    await rm(partial, { force: true });
    throw e;
  }
}

function take(d: DigestBuilder, phase: SamplePhase, s: ProbeSample): void {
  if (phase === 'baseline') d.baseline(s);
  else if (phase === 'observe') d.observation(s);
  else if (phase === 'guardrail') d.guardrail(s);
  else d.verification(s);
}

/**
 * Text written to a stream in chunks, waiting for it when it lags (backpressure); without a
 * stream, the text is dropped. An error of the stream is thrown by the next call.
 */
export class ChunkedWriter {
  private pending: string[] = [];
  private size = 0;
  private failed?: Error;

  constructor(private readonly stream?: Writable) {
    stream?.on('error', (e) => (this.failed ??= e));
  }

  async write(s: string): Promise<void> {
    if (!this.stream) return;
    this.pending.push(s);
    this.size += s.length;
    if (this.size >= CHUNK) await this.flush();
  }

  /** Hands everything written so far to the stream, and waits for it to take it. */
  async flush(): Promise<void> {
    if (!this.stream) return;
    this.check();
    const chunk = this.pending.join('');
    this.pending = [];
    this.size = 0;
    // once() rejects should the stream fail while it waits.
    if (chunk && !this.stream.write(chunk)) await once(this.stream, 'drain');
    this.check();
  }

  /** Flushes and ends the stream, resolving once it has finished. */
  async end(): Promise<void> {
    await this.flush();
    this.stream?.end();
    if (this.stream) await once(this.stream, 'finish');
  }

  destroy(): void {
    this.stream?.destroy();
  }

  private check(): void {
    if (this.failed) throw this.failed;
  }
}
