import { Command, Option } from 'commander';
import type { Config } from '../config';
import type { DemoBuild } from '../stack';
import { runCli } from './entry';
import { addRunCommand, uiUrl } from './run-command';
import { addScheduleCommands } from './schedule';

/*
 * Every command loads what it needs when it runs (`await import`), so that `--help` and
 * `validate` start without the Temporal client, the worker (webpack, the core bridge), dockerode
 * or NATS, and `run` without the worker: module loading was most of the CLI's start-up time.
 */

/** --build: which build of the demo target system to start (default GAMEDAY_DEMO_BUILD, else weak). */
function buildOption(): Option {
  return new Option('--build <build>', 'the demo target system\'s build: weak (the reference experiments\' findings) or resilient (their remediations); default GAMEDAY_DEMO_BUILD, else weak').choices(['weak', 'resilient']);
}

const out = (line: string): void => void process.stdout.write(line + '\n');
const err = (line: string): void => void process.stderr.write(line + '\n');

/** Runs a worker until SIGINT/SIGTERM. */
async function runWorker(config: Config): Promise<void> {
  const { createWorker } = await import('../worker');
  const { worker, close } = await createWorker({ config });
  err(`worker polling task queue '${config.taskQueue}' on ${config.temporalAddress} (Ctrl-C to stop)`);
  if (config.metricsAddress) err(`metrics at http://${config.metricsAddress}/metrics`);
  await worker.run();
  await close();
}

/** Connections to close when the command ends, so that the process exits at once. */
const cleanup: (() => Promise<unknown>)[] = [];

export function buildProgram(): Command {
  const program = new Command('gameday').description('Chaos-engineering game days as durable Temporal workflows').showHelpAfterError();

  program
    .command('dev')
    .description('provision and start the local stack (Temporal dev server, Docker, demo targets) and a worker')
    .option('--no-worker', 'start only the stack')
    .addOption(buildOption())
    .action(async (opts: { worker: boolean; build?: DemoBuild }) => {
      const [{ loadConfig }, { connectDocker }, { ensureDemoTarget, ensureTargetSystem, provisionStack }] = await Promise.all([import('../config'), import('../faults/docker'), import('../stack')]);
      const config = loadConfig();
      await provisionStack();
      const docker = connectDocker();
      await ensureDemoTarget(docker);
      const build = opts.build ?? config.demoBuild;
      const target = await ensureTargetSystem(docker, build);
      err(`stack ready: Temporal ${config.temporalAddress}, Web UI ${uiUrl(config)}`);
      err(`demo target system (${build} build): webhook ${target.apiUrl}/webhook, Toxiproxy API ${target.toxiproxyUrl}, scoring faults ${target.scoringAdminUrl}/fault, scoring's HTTP fault proxy ${target.scoringProxyAdminUrl}/rules`);
      if (opts.worker) await runWorker(config);
    });

  program
    .command('worker')
    .description('run one worker on the configured task queue')
    .action(async () => runWorker((await import('../config')).loadConfig()));

  program
    .command('agent')
    .description("run an agent for this host: the resolve, inject and revert work of targets with 'host: NAME'")
    .requiredOption('--host <name>', 'the host this agent stands for, as targets name it (host: NAME)')
    .action(async (opts: { host: string }) => {
      const [{ loadConfig }, { createAgent }] = await Promise.all([import('../config'), import('../agent')]);
      const config = loadConfig();
      if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(opts.host)) throw new Error(`--host: '${opts.host}' is not a host name: use lower-case letters, digits and dashes, such as db-1`);
      const agent = await createAgent({ config, host: opts.host });
      err(`agent for host '${agent.host}' polling task queues '${agent.taskQueue}' and '${agent.taskQueue}-faults' on ${config.temporalAddress} (Ctrl-C to stop)`);
      await agent.worker.run();
      await agent.close();
    });

  addRunCommand(program, cleanup);

  program
    .command('validate <files...>')
    .description('validate experiment files; one line per problem')
    .action(async (files: string[]) => {
      const { validateFiles } = await import('./validate');
      const problems = await validateFiles(files, err);
      problems.forEach(err);
      if (problems.length === 0) out(`${files.length} file${files.length === 1 ? '' : 's'} valid`);
      process.exitCode = problems.length === 0 ? 0 : 1;
    });

  program
    .command('schema')
    .description('print the JSON Schema of experiment (or, with --scenario, scenario) files, or write it with --out')
    .option('--out <file>', 'write it to this file')
    .option('--scenario', 'the schema of scenario files')
    .action(async (opts: { out?: string; scenario?: boolean }) => {
      const [{ writeFile }, { experimentJsonSchema, scenarioJsonSchema }] = await Promise.all([import('node:fs/promises'), import('../spec/json-schema')]);
      const text = JSON.stringify(opts.scenario ? scenarioJsonSchema() : experimentJsonSchema(), null, 2) + '\n';
      if (opts.out) await writeFile(opts.out, text);
      else process.stdout.write(text);
    });

  program
    .command('status <workflowId>')
    .description('stage, active faults and last probe values of a run')
    .option('--json', 'print JSON')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      const [{ loadConfig }, { connectClient }, { describeRun }] = await Promise.all([import('../config'), import('../temporal'), import('./run-grpc')]);
      const client = await connectClient(loadConfig());
      cleanup.push(() => client.connection.close());
      const { status, state } = await describeRun(client, workflowId);
      if (opts.json) return out(JSON.stringify({ workflowId, state, ...status }));
      out(`${workflowId}: ${state}${status ? `, stage ${status.stage}${status.verdict ? `, verdict ${status.verdict}` : ''}` : ''}`);
      if (!status) return;
      out(`active faults: ${status.activeFaults.map((f) => `${f.description} (due ${f.dueAt ?? '?'})`).join('; ') || 'none'}`);
      for (const [check, p] of Object.entries(status.lastProbes)) out(`  ${p.ok ? 'ok  ' : 'MISS'} ${check}: ${p.error || JSON.stringify(p.measurement)}`);
    });

  program
    .command('history [experimentId]')
    .description('runs from the results store, newest first: verdict, rollback, duration, trigger, score and a Web UI link; then the resilience scores')
    .option('--since <duration>', 'only runs started this long ago or since (e.g. 24h, 7d)')
    .option('--limit <n>', 'runs listed at most', '50')
    .option('--runs <n>', 'scored runs per experiment in a score (N)', '10')
    .option('--json', 'print JSON: { runs, experiments, systems }')
    .action(async (experimentId: string | undefined, opts: { since?: string; limit: string; runs: string; json?: boolean }) => {
      const [{ loadConfig }, { parseSince }, { formatHistory, historyFromStore }] = await Promise.all([import('../config'), import('../history'), import('./history')]);
      const count = (name: string, v: string): number => {
        if (!/^[1-9]\d*$/.test(v)) throw new Error(`${name}: expected a whole number from 1, not '${v}'`);
        return Number(v);
      };
      const q = { experimentId, sinceMs: opts.since === undefined ? undefined : parseSince(opts.since), limit: count('--limit', opts.limit), scoreRuns: count('--runs', opts.runs) };
      const history = await historyFromStore(loadConfig(), q);
      if (opts.json) out(JSON.stringify(history));
      else formatHistory(history, q.scoreRuns).forEach(out);
    });

  program
    .command('compare <before> [after]')
    .description('two runs from the results store side by side (verdicts, each expectation in both), then the later one\'s Re-validation section; each a workflow id, or an experiment id for its newest closed run; with one experiment id, its newest closed run against the one before it')
    .option('--json', 'print JSON: { before, after, rows } (the two journals without their samples)')
    .action(async (before: string, after: string | undefined, opts: { json?: boolean }) => {
      const [{ loadConfig }, { comparisonFromStore, formatComparison }] = await Promise.all([import('../config'), import('./compare')]);
      const c = await comparisonFromStore(loadConfig(), before, after);
      const head = (j: typeof c.before) => ({ ...j, baseline: [], observations: [], verification: [], guardrails: [] });
      if (opts.json) out(JSON.stringify({ before: head(c.before), after: head(c.after), rows: c.rows }));
      else formatComparison(c).forEach(out);
    });

  program
    .command('report <workflowId>')
    .description('render a run from the results store (GAMEDAY_RESULTS_URL), on any machine that reaches it: Markdown by default')
    .option('--md', 'the Markdown report (the default)')
    .option('--html', 'the HTML report: one self-contained file with a timeline per probe')
    .option('--json', 'the journal: every sample, event and fault, as JSON')
    .option('--run-id <runId>', 'a run of the workflow id other than its newest')
    .option('--out <file>', 'write it to this file instead of standard output')
    .action(async (workflowId: string, opts: { md?: boolean; html?: boolean; json?: boolean; runId?: string; out?: string }) => {
      const formats = (['md', 'html', 'json'] as const).filter((f) => opts[f]);
      if (formats.length > 1) throw new Error(`report takes one of --md, --html, --json, not ${formats.map((f) => `--${f}`).join(' and ')}`);
      const [{ loadConfig }, { openResultsStore }, { printReport }] = await Promise.all([import('../config'), import('../store/postgres'), import('./report')]);
      const config = loadConfig();
      const store = openResultsStore(config.resultsUrl);
      cleanup.push(() => store.close());
      await printReport(store, config.resultsUrl, { workflowId, runId: opts.runId, format: formats[0] ?? 'md' }, opts.out);
      if (!opts.out) return;
      err(`wrote ${opts.out}`);
    });

  program
    .command('serve')
    .description('a web dashboard: runs with filters, their HTML reports, scores and trends, schedules; on 127.0.0.1 unless --host says otherwise')
    .option('--port <n>', 'the port to listen on (0: any free one)', '8300')
    .option('--host <address>', 'the address to listen on; 0.0.0.0 shares it with the network', '127.0.0.1')
    .action(async (opts: { port: string; host: string }) => {
      const [{ loadConfig }, { parsePort, serveDashboard }] = await Promise.all([import('../config'), import('./serve')]);
      const port = parsePort(opts.port);
      await serveDashboard(loadConfig(), { host: opts.host, port }, err);
    });

  program
    .command('abort [workflowId]')
    .description('halt a run (or, with --all, every running experiment and scenario): every active fault is reverted at once')
    .requiredOption('--reason <text>', 'why, for the report')
    .option('--all', 'halt every running experiment (the big red button)')
    .action(async (workflowId: string | undefined, opts: { reason: string; all?: boolean }) => {
      if (!workflowId && !opts.all) throw new Error('abort needs a workflow id, or --all');
      const [{ loadConfig }, { connectClient }, { abortAll, abortRun }] = await Promise.all([import('../config'), import('../temporal'), import('./run-grpc')]);
      const client = await connectClient(loadConfig());
      cleanup.push(() => client.connection.close());
      if (opts.all) {
        const ids = await abortAll(client, opts.reason);
        out(ids.length ? `abort sent to ${ids.length} running experiment(s):\n${ids.map((id) => `  ${id}`).join('\n')}` : 'no experiment is running');
        return;
      }
      await abortRun(client, workflowId!, opts.reason);
      out(`abort sent to ${workflowId}`);
    });

  program
    .command('http-proxy')
    .description("run Gameday's HTTP fault proxy in front of a dependency: clients call --listen, faults are rules set through --admin (proxy targets)")
    .requiredOption('--upstream <url>', "the dependency's base URL")
    .requiredOption('--listen <host:port>', 'where clients reach the dependency through the proxy')
    .requiredOption('--admin <host:port>', 'where its admin API listens (GET /proxy, GET /rules, PUT and DELETE /rules/:tag)')
    .action(async (opts: { upstream: string; listen: string; admin: string }) => {
      const { runFaultProxy } = await import('../http-proxy/main');
      const proxy = await runFaultProxy(['--upstream', opts.upstream, '--listen', opts.listen, '--admin', opts.admin]);
      err(`HTTP fault proxy on ${proxy.listen} → ${opts.upstream}, admin API on ${proxy.admin} (Ctrl-C to stop)`);
      await new Promise(() => undefined);
    });

  program
    .command('janitor')
    .description('revert faults left by experiments that closed without rollback (terminated, timed out)')
    .option('--lookback <duration>', 'how far back to look for closed experiments', '24h')
    .option('--schedule', 'instead of running once, create or update the schedule that runs it')
    .option('--every <duration>', 'with --schedule: how often', '10s')
    .action(async (opts: { lookback: string; schedule?: boolean; every: string }) => {
      const [{ loadConfig }, { connectClient }, { durationMs }, { scheduleJanitor }] = await Promise.all([import('../config'), import('../temporal'), import('../spec/loader'), import('./janitor')]);
      const config = loadConfig();
      const client = await connectClient(config);
      cleanup.push(() => client.connection.close());
      const lookbackMs = durationMs(opts.lookback);
      if (opts.schedule) {
        out(await scheduleJanitor(client, config, durationMs(opts.every), lookbackMs));
        return;
      }
      const result = await client.workflow.execute('janitor', { taskQueue: config.taskQueue, workflowId: `gameday-janitor-${Date.now()}`, args: [{ lookbackMs }] });
      out(`janitor: ${result.orphans} closed experiment(s) with faults recorded as active`);
      for (const a of result.actions) out(`  ${a.workflowId}: ${a.fault}: ${a.outcome}`);
    });

  addScheduleCommands(program, cleanup, out);

  program
    .command('demo')
    .description('a real game day on the local stack: provisions it, starts a worker, runs chaos-001')
    .addOption(buildOption())
    .action(async (opts: { build?: DemoBuild }) => {
      const [{ loadConfig }, { connectDocker }, { ensureDemoTarget, ensureTargetSystem, provisionStack }, { createWorker }, { connectClient }, { inputFor, watch }, { startRun }] = await Promise.all([
        import('../config'),
        import('../faults/docker'),
        import('../stack'),
        import('../worker'),
        import('../temporal'),
        import('./run'),
        import('./run-grpc'),
      ]);
      const config = loadConfig();
      await provisionStack();
      const docker = connectDocker();
      await ensureDemoTarget(docker);
      const build = opts.build ?? config.demoBuild;
      const system = await ensureTargetSystem(docker, build);
      err(`demo target system (${build} build) healthy: webhook ${system.apiUrl}/webhook (a message scored end to end)`);
      const { worker, close } = await createWorker({ config });
      const target = await inputFor('chaos-001-nats-broker-pause');
      const client = await connectClient(config);
      const result = await worker.runUntil(async () => {
        const handle = await startRun(client, config, target);
        err(`started ${handle.workflowId}\nwatch it in the Temporal Web UI: ${uiUrl(config)}/${handle.workflowId}`);
        return watch(handle, err);
      });
      await Promise.all([close(), client.connection.close()]);
      out(`verdict: ${result.verdict} — ${result.reason}\nrollback: ${result.rollback}\nreport: ${result.reportDir}/report.md\nHTML report: ${result.reportDir}/report.html (open it in a browser; it works offline)\nTemporal Web UI: ${uiUrl(config)}\ndashboard: npx gameday serve, then open http://127.0.0.1:8300/ (every run, its HTML report, the scores, the schedules)`);
    });

  return program;
}

/** The CLI's entry: known failures print their message alone, without a stack trace. */
export async function main(argv = process.argv): Promise<void> {
  await runCli(buildProgram, argv, cleanup);
}
