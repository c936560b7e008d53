/**
 * One report of the day-long bench, in a process of its own so that its peak memory is its own:
 * `after` streams it (exportReport), `before` reads the whole journal into memory and writes it
 * as the worker did before streaming. Prints one JSON line: seconds, peak RSS and heap, or the error.
 */
import { exportReport } from '../src/report/export';
import { writeReport } from '../src/report/write';
import { openResultsStore } from '../src/store/postgres';

async function main(): Promise<void> {
  const [url, reportsDir, workflowId, mode] = process.argv.slice(2);
  const store = openResultsStore(url);
  let peakHeap = 0;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 10);
  const t = performance.now();
  let error: string | undefined;
  try {
    if (mode === 'after') await exportReport(store, reportsDir, workflowId);
    else {
      const journal = await store.readJournal(workflowId);
      if (!journal) throw new Error(`no run ${workflowId}`);
      await writeReport(reportsDir, journal);
    }
  } catch (e) {
    error = (e as Error).message;
  }
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  await store.close();
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  console.log(JSON.stringify({ mode, seconds: Math.round(seconds * 10) / 10, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), peakHeapMiB: mib(peakHeap), ...(error ? { error } : {}) }));
}

main().catch((e: unknown) => {
  console.log(JSON.stringify({ error: (e as Error).message }));
  process.exitCode = 1;
});
