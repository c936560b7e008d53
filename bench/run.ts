/**
 * `npm run bench`: Gameday measured on the real stack (Temporal dev server, Docker engine, worker
 * processes, the demo target system). Each part writes its own keys in bench/results.json and
 * leaves the others' last results as they were; each figure has its target beside it.
 *
 * Parts (all by default; pick with BENCH_ONLY=history,cli or `npm run bench -- history cli`):
 *   core         halt, crash revert, inject cost, fault families, held connections (BENCH_RUNS=20)
 *   concurrency  N experiments at once on one worker (BENCH_CONCURRENCY=10,100,500;
 *                BENCH_CONCURRENCY_PAUSE_S=20; BENCH_CONCURRENCY_PROBE=http|docker)
 *   history      events per run against duration (BENCH_HISTORY_DURATIONS=10,60,180 seconds;
 *                BENCH_HISTORY_INTERVAL_MS=10)
 *   guardrails   detection latency (BENCH_GUARDRAIL_INTERVALS_MS=100,1000; BENCH_GUARDRAIL_RUNS=5)
 *                and sampling gaps (BENCH_GAP_GUARDRAIL_MS=20, BENCH_GAP_OBSERVE_MS=100, BENCH_GAP_SECONDS=10)
 *   cli          `gameday run --wait` on a 10 s pause, `gameday --help`, Chaos Toolkit bare and with the
 *                same steady state (BENCH_CLI_RUNS=5)
 *   report       rendering the HTML and Markdown reports of a 24 h run (BENCH_REPORT_SAMPLES=100000,1000000)
 *   daylong      a 24 h journal's report, streamed and whole in memory: time, peak RSS and heap
 *                (BENCH_DAYLONG_SAMPLES=345600,1000000), and the StoreWriter with 100 runs at
 *                10 ms, then with the store down (BENCH_DAYLONG_WRITER_S=20); see bench/daylong.ts
 *   agent        a revert through a host's agent against the same on the orchestrating worker
 *                (BENCH_AGENT_RUNS=10); see bench/agent.ts
 *   http-proxy   the latency the HTTP fault proxy adds, p50 and p99 (BENCH_HTTP_PROXY_REQUESTS=2000);
 *                see bench/http-proxy.ts
 *   agentProbes  a probe through a host's agent against the same on the worker: history events,
 *                bytes, largest payload (BENCH_AGENT_PROBE_SECONDS=60, BENCH_AGENT_PROBE_INTERVAL_MS=100)
 */
import os from 'node:os';
import { provisionStack } from '../src/stack';
import { connectTestClient, killSpawnedWorkers } from '../test/helpers';
import { agentRevert } from './agent';
import { agentProbes } from './agent-probes';
import { cliOverhead } from './cli-overhead';
import { concurrencyCurve } from './concurrency';
import { core } from './core';
import { dayLong } from './daylong';
import { detectionLatency, samplingGaps } from './guardrails';
import { historyPerDuration } from './history';
import { httpProxyLatency } from './http-proxy';
import { startHttpTarget, type HttpTarget } from './http-target';
import { cleanUpOnSignal, removeLeftovers } from './leftovers';
import { reportRendering } from './report';
import { envNumber, envNumbers, round, runContext, writeResults } from './lib';
import type { Client } from '@temporalio/client';

type Part = (client: Client, http: HttpTarget) => Promise<unknown>;

/** Each part, by name, and what it writes under its key in results.json. */
const PARTS: Record<string, Part> = {
  core: async (client) => core(client),
  concurrency: async (client, http) => ({ points: await concurrencyCurve(client, http, envNumbers('BENCH_CONCURRENCY', [10, 100, 500])) }),
  history: async (client, http) => historyPerDuration(client, http, envNumbers('BENCH_HISTORY_DURATIONS', [10, 60, 180]), envNumber('BENCH_HISTORY_INTERVAL_MS', 10)),
  guardrails: async (client, http) => ({
    detection: await detectionLatency(client, http, envNumbers('BENCH_GUARDRAIL_INTERVALS_MS', [100, 1000]), envNumber('BENCH_GUARDRAIL_RUNS', 5)),
    gaps: await samplingGaps(client, http, envNumber('BENCH_GAP_GUARDRAIL_MS', 20), envNumber('BENCH_GAP_OBSERVE_MS', 100), envNumber('BENCH_GAP_SECONDS', 10)),
  }),
  cli: async (client, http) => cliOverhead(client, http, envNumber('BENCH_CLI_RUNS', 5)),
  report: async () => reportRendering(envNumbers('BENCH_REPORT_SAMPLES', [100_000, 1_000_000])),
  daylong: async () => dayLong(),
  agent: async () => agentRevert(),
  'http-proxy': async () => httpProxyLatency(envNumber('BENCH_HTTP_PROXY_REQUESTS', 2000)),
  agentProbes: async () => agentProbes(),
};

/** The parts asked for, in the order of PARTS. */
function chosenParts(): string[] {
  const asked = [...(process.env.BENCH_ONLY ?? '').split(','), ...process.argv.slice(2)].map((p) => p.trim()).filter(Boolean);
  const unknown = asked.filter((p) => !(p in PARTS));
  if (unknown.length) throw new Error(`unknown bench part(s): ${unknown.join(', ')} (parts: ${Object.keys(PARTS).join(', ')})`);
  return Object.keys(PARTS).filter((p) => asked.length === 0 || asked.includes(p));
}

/** Parts that need neither Temporal nor the bench's endpoint: run alone, they leave every run on the server alone. */
const STANDALONE = new Set(['daylong', 'http-proxy']);

async function main(): Promise<void> {
  const parts = chosenParts();
  cleanUpOnSignal();
  await provisionStack();
  const standalone = parts.every((p) => STANDALONE.has(p));
  const client = standalone ? undefined : await connectTestClient();
  const http = standalone ? undefined : await startHttpTarget();
  try {
    if (client) await removeLeftovers(client);
    for (const part of parts) {
      process.stderr.write(`bench: ${part}\n`);
      const context = await runContext();
      const t = performance.now();
      const results = await PARTS[part](client as Client, http as HttpTarget);
      // core writes its own keys (as it always has); the others write one key each.
      if (part !== 'core') await writeResults({ [part]: { ...context, loadAverageAtEnd: os.loadavg().map(round), partSeconds: Math.round((performance.now() - t) / 1000), ...(results as object) } });
      process.stderr.write(`bench: ${part} done in ${Math.round((performance.now() - t) / 1000)} s\n`);
      if (part !== 'core') console.log(JSON.stringify({ [part]: results }, null, 1));
    }
  } finally {
    killSpawnedWorkers();
    await http?.close();
    await client?.connection.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
