/**
 * The bench's `agentProbes` part: what a probe on another host costs the run's history, against
 * the same probe on the orchestrating worker. One run each samples a docker-container probe of a
 * busybox sleeper every BENCH_AGENT_PROBE_INTERVAL_MS for BENCH_AGENT_PROBE_SECONDS: once on the
 * worker's own host, once with `host: bench-agent` (a `gameday agent` process on this machine,
 * same engine), which writes its samples to the results store (since patch host-probes-store;
 * before it, they came back to the run in chunks through the history). Measured from each run's history
 * (events, encoded bytes, the largest payload) and its report (samples held).
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Experiment } from '../src/spec/schema';
import type { ExperimentResult, Journal } from '../src/types';
import { docker, removeContainer, spawnAgent, startWorker } from '../test/helpers';
import { payloadSizes } from '../test/payloads';
import { envNumber, progress } from './lib';

const CONTAINER = 'gameday-bench-agent-probes';
const HOST = 'bench-agent';

function observed(seconds: number, intervalMs: number, host?: string): Experiment {
  const probe = { kind: 'docker-container', container: CONTAINER, ...(host ? { host } : {}) } as const;
  return {
    id: host ? 'bench-agent-probes-remote' : 'bench-agent-probes-local',
    title: 'a container observed while another is paused',
    hypothesis: 'the probe answers throughout',
    targets: { c: { kind: 'docker', container: CONTAINER } },
    steadyState: [{ name: 'runs', probe, expect: { running: { equals: true } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'c' }, duration: `${seconds}s` }],
    observe: { interval: `${intervalMs}ms`, probes: [{ name: 'paused', probe, expect: { paused: { equals: true } } }] },
    recovery: { within: '10s', interval: '200ms' },
  };
}

async function measure(client: Client, workflowId: string, result: ExperimentResult): Promise<Record<string, unknown>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const journal = JSON.parse(await readFile(path.join(result.reportDir, 'journal.json'), 'utf8')) as Journal;
  return {
    verdict: result.verdict,
    events: events.length,
    historyBytes: temporal.api.history.v1.History.encode(history).finish().length,
    largestPayloadBytes: Math.max(...payloadSizes(events)),
    samplesInReport: journal.observations.length,
  };
}

export async function agentProbes(seconds = envNumber('BENCH_AGENT_PROBE_SECONDS', 60), intervalMs = envNumber('BENCH_AGENT_PROBE_INTERVAL_MS', 100)): Promise<Record<string, unknown>> {
  await removeContainer(CONTAINER);
  const c = await docker.createContainer({ name: CONTAINER, Image: 'gameday/busybox:local', Cmd: ['sleep', '3600'], Labels: { 'gameday.enabled': 'true' } });
  await c.start();
  const worker = await startWorker('bench-agent-probes');
  const agent = await spawnAgent(HOST);
  const out: Record<string, unknown> = {};
  try {
    for (const where of ['onWorker', 'throughAgent'] as const) {
      const handle = await worker.start({ spec: observed(seconds, intervalMs, where === 'throughAgent' ? HOST : undefined) });
      const result = (await handle.result()) as ExperimentResult;
      out[where] = await measure(worker.client, handle.workflowId, result);
      progress(`agentProbes ${where}: ${JSON.stringify(out[where])}`);
    }
  } finally {
    await agent.kill('SIGTERM');
    await worker.stop();
    await removeContainer(CONTAINER);
  }
  return { seconds, intervalMs, note: 'one docker-container observe probe (and the steady state) on this machine; throughAgent: the same probe with host: bench-agent, its agent a gameday agent process on the same machine and engine', ...out };
}
