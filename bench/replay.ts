/**
 * bench/runs.ts replayMs(): in a fresh process (the bench's own work off its event loop, the
 * SDK's runtime quiet), bundles the workflows, then times one full replay of the history in the
 * file (protobuf) given as argument; prints `{"ms": …}`.
 */
import { readFile } from 'node:fs/promises';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';

async function main(file: string, workflowId: string): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const history = temporal.api.history.v1.History.decode(await readFile(file));
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quiet });
  const t = performance.now();
  await Worker.runReplayHistory({ workflowBundle, replayName: 'bench' }, history, workflowId);
  console.log(JSON.stringify({ ms: performance.now() - t }));
}

main(process.argv[2], process.argv[3]).catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
