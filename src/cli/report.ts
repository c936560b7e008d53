/** `gameday report`: a run from the results store, streamed to standard output or a file. */
import type { WriteStream } from 'node:fs';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { ReportFormat } from '../report/export';
import { streamStoredReport } from '../report/export';
import type { ResultsStore } from '../store/types';

/**
 * Writes the run's report in `format` to `out` (standard output when undefined), in one pass over
 * its samples: memory stays bounded however long the run sampled. The file is created only once
 * the run is known.
 * @throws Error naming the file when it cannot be written; the run and the store when the store
 *   has no such run; the store's own errors when it cannot be read.
 */
export async function printReport(store: ResultsStore, storeUrl: string, run: { workflowId: string; runId?: string; format: ReportFormat }, out?: string): Promise<void> {
  if (!out) return streamStoredReport(store, storeUrl, run, async () => process.stdout);
  const cannotWrite = (e: Error) => new Error(`cannot write the report to ${out}: ${e.message}`);
  let file: WriteStream | undefined;
  let fileError: Error | undefined;
  const toFile = async () => {
    // Opened first so that a missing folder or a file not ours is said at once, naming the file.
    const handle = await open(out, 'w').catch((e: Error) => {
      throw cannotWrite(e);
    });
    file = handle.createWriteStream();
    file.on('error', (e) => (fileError ??= e));
    return file;
  };
  try {
    await streamStoredReport(store, storeUrl, run, toFile);
  } catch (e) {
    file?.destroy();
    throw e === fileError ? cannotWrite(e as Error) : e;
  }
  if (!file) return;
  file.end();
  await once(file, 'close').catch((e: Error) => {
    throw cannotWrite(e);
  });
}
