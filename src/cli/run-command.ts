import { Option, type Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { RunWatch } from './run';

/*
 * `gameday run`: in the full CLI (main.ts) and alone in the bundle bin/gameday.js starts `run`
 * from (run-main.ts, scripts/bundle-cli.js), which holds only what a run over Temporal's HTTP API
 * needs. The gRPC side (the Temporal client and its protobuf root) loads from the plain build
 * where it is needed.
 */

const out = (line: string): void => void process.stdout.write(line + '\n');
const err = (line: string): void => void process.stderr.write(line + '\n');

/** The Web UI's list of runs. */
export function uiUrl(config: Config): string {
  return `${config.temporalUiUrl}/namespaces/${config.namespace}/workflows`;
}

/** Adds `run <fileOrId>` to `program`; what it opens is closed through `cleanup`. */
export function addRunCommand(program: Command, cleanup: (() => Promise<unknown>)[]): void {
  program
    .command('run <fileOrId>')
    .description('start an experiment or a scenario from a file, or by id from experiments/')
    .option('--wait', 'wait for the end, showing progress')
    .option('--json', 'print a JSON object (with --wait: workflowId, verdict, rollback, reportDir)')
    .option('--dry-run', 'resolve the targets and print the plan; inject nothing')
    .addOption(new Option('--workflow-id <id>', 'the workflow id to use'))
    .action(async (fileOrId: string, opts: { wait?: boolean; json?: boolean; workflowId?: string; dryRun?: boolean }) => {
      const [{ loadConfig }, extraCa] = await Promise.all([import('../config'), import('./extra-ca')]);
      const heldBack = extraCa.restoreExtraCaCerts();
      const config = loadConfig();
      // Started without NODE_EXTRA_CA_CERTS by bin/gameday: again with them when a connection may need them.
      if (heldBack !== undefined && extraCa.mayUseTls(config)) return extraCa.againWithExtraCaCerts();
      if (opts.dryRun) {
        const [{ looksLikeFile }, { dryRun, formatDryRun }] = await Promise.all([import('./run'), import('./dry-run')]);
        const plan = await dryRun(config, fileOrId, looksLikeFile(fileOrId));
        if (opts.json) out(JSON.stringify(plan));
        else formatDryRun(plan).forEach(out);
        return;
      }
      // Over Temporal's HTTP API where there is one (the local stack's): no gRPC client or protobuf to load.
      const overHttp = config.temporalHttpUrl ? await import('./temporal-http') : undefined;
      const http = overHttp && config.temporalHttpUrl ? new overHttp.TemporalHttp(config.temporalHttpUrl, config.namespace) : undefined;
      if (http) cleanup.push(async () => http.close());
      const grpc = (): Promise<Client> => {
        const connecting = import('../temporal').then((t) => t.connectClient(config));
        // Handled here too: a refusal while the file is still being read must not be an unhandled rejection.
        connecting.catch(() => undefined);
        cleanup.push(() => connecting.then((c) => c.connection.close()));
        return connecting;
      };
      // Connecting goes on while the rest of the command loads and the file is read and validated.
      const connecting = http ? undefined : grpc();
      const { inputFor, startRunOverHttp, watch, watchScenario } = await import('./run');
      const target = await inputFor(fileOrId, config.experimentsDir);
      const overGrpc = async (client: Promise<Client>): Promise<RunWatch> => (await import('./run-grpc')).startRun(await client, config, target, opts.workflowId);
      let handle: RunWatch;
      if (!http) handle = await overGrpc(connecting ?? grpc());
      else {
        try {
          handle = await startRunOverHttp(http, config, target, opts.workflowId);
        } catch (e) {
          // No Temporal HTTP API there (a dev server started without --http-port, or another
          // service on that port): gRPC, as before. Temporal's own refusals (a bad request, a run
          // already started) are the answer. The workflow id is the same: never two runs.
          if (overHttp?.isTemporalAnswer(e)) throw e;
          handle = await overGrpc(grpc());
        }
      }
      if (!opts.wait) {
        if (opts.json) out(JSON.stringify({ workflowId: handle.workflowId, runId: handle.runId }));
        else out(`started ${handle.workflowId}\n  watch: ${uiUrl(config)}/${handle.workflowId}\n  status: gameday status ${handle.workflowId}`);
        return;
      }
      err(`started ${handle.workflowId} — ${uiUrl(config)}/${handle.workflowId}`);
      if (target.workflowType === 'scenario') {
        const result = await watchScenario(handle, err);
        if (opts.json) out(JSON.stringify(result));
        else out(`verdict: ${result.verdict} — ${result.reason}\niterations: ${result.iterations}\nreport: ${result.reportDir}/report.md`);
        process.exitCode = result.verdict === 'passed' ? 0 : result.verdict === 'failed' ? 3 : 4;
        return;
      }
      const result = await watch(handle, err);
      if (opts.json) out(JSON.stringify(result));
      else out(`verdict: ${result.verdict} — ${result.reason}\nrollback: ${result.rollback}\nreport: ${result.reportDir}/report.md\nHTML report: ${result.reportDir}/report.html`);
      process.exitCode = result.verdict === 'passed' ? 0 : result.verdict === 'failed' ? 3 : 4;
    });
}
