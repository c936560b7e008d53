/**
 * A run's report written straight from the results store, in bounded memory whatever the run's
 * length: journal.json streamed sample by sample (byte for byte what `JSON.stringify(journal,
 * null, 2)` writes, so every reader of it keeps working), and report.md rendered from the digest
 * of that same one pass.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PHASE_FIELD } from '../store/rows';
import type { RunReader, SamplePhase } from '../store/types';
import type { Journal, ProbeSample } from '../types';
import { maskPasswords, maskPasswordsIn } from '../mask';
import { DigestBuilder, type SampleDigest } from './digest';
import { renderMarkdown } from './markdown';
import type { ReportOptions } from './sections';
import { ChartThinner } from './thin';
import { reportDirFor, safeHtml, withMaskedWebhooks } from './write';

/** Written to the file in pieces of about this many characters. */
const CHUNK = 1 << 16;

/**
 * Writes `<reportsDir>/<workflowId>/journal.json` and report.md from the run being read,
 * overwriting an earlier report (journal.json is replaced whole, never left half written).
 * `finish` completes the journal once every sample has been seen: the fields it changes or adds
 * (hypothesis rows, store notes) must come after the samples in the journal, as they do.
 * Returns the folder.
 */
export async function writeReportFrom(
  reportsDir: string,
  run: RunReader,
  finish: (head: Journal, digest: SampleDigest) => Journal | Promise<Journal> = (head) => head,
  opts: ReportOptions = {},
): Promise<string> {
  const dir = reportDirFor(reportsDir, run.head.workflowId);
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, 'journal.json');
  const partial = `${target}.${process.pid}.partial`;
  const out = new ChunkedFile(partial);
  try {
    const written = new Set<string>();
    const sampleFields = new Set<string>(Object.values(PHASE_FIELD));
    // JSON.stringify leaves out a key whose value is undefined: so does this.
    let entries = 0;
    const key = (name: string): string => `${entries++ ? ',\n' : ''}  ${JSON.stringify(name)}: `;
    // A password typed into a URL of the spec is shown as *** (secret references stay as written).
    const entry = async (name: string, value: unknown): Promise<void> => {
      written.add(name);
      if (value !== undefined) await out.write(key(name) + JSON.stringify(maskPasswordsIn(value), null, 2).replace(/\n/g, '\n  '));
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
      await out.write(`${key(field)}[`);
      let n = 0;
      for await (const s of run.samples(phase)) {
        take(digest, phase, s);
        thinner.add(phase, s);
        await out.write(`${n++ ? ',' : ''}\n    ${JSON.stringify(maskPasswordsIn(s), null, 2).replace(/\n/g, '\n    ')}`);
      }
      await out.write(n ? '\n  ]' : ']');
    }
    const done = digest.done();
    const journal = await finish(run.head, done);
    for (const [name, value] of Object.entries(journal)) if (!written.has(name)) await entry(name, value);
    await out.write('\n}\n');
    await out.close();
    await rename(partial, target);
    const shown = withMaskedWebhooks(maskPasswordsIn(journal));
    await writeFile(path.join(dir, 'report.md'), maskPasswords(renderMarkdown(shown, opts, done)));
    // The charts draw from the samples thinned in the same pass: as many points as a whole journal would give them.
    const thin = thinner.done();
    const charted = { ...shown, baseline: thin.samples.baseline, observations: thin.samples.observe, guardrails: thin.samples.guardrail, verification: thin.samples.verify };
    await writeFile(path.join(dir, 'report.html'), maskPasswords(safeHtml(maskPasswordsIn(charted), { ...opts, counts: thin.counts })));
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

/** A file written in chunks, waiting for the disk when it lags (backpressure). */
class ChunkedFile {
  private readonly stream;
  private pending: string[] = [];
  private size = 0;

  constructor(file: string) {
    this.stream = createWriteStream(file);
  }

  async write(s: string): Promise<void> {
    this.pending.push(s);
    this.size += s.length;
    if (this.size >= CHUNK) await this.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }

  destroy(): void {
    this.stream.destroy();
  }

  private async flush(): Promise<void> {
    const chunk = this.pending.join('');
    this.pending = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}
