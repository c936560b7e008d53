import type Docker from 'dockerode';
import { resolveSecrets, scrub, scrubText } from '../secrets';
import { durationMs } from '../spec/loader';
import type { ObserveCheck, ProbeSpec, SteadyStateCheck } from '../spec/schema';
import type { Measurement, ProbeSample, ProbeWindow, Stage } from '../types';
import { probeCommand } from './command';
import { probeDockerContainer, probeDockerLogs } from './docker';
import { probeHttp } from './http';
import { httpLatencyBudgetMs, probeHttpLatency } from './http-latency';
import { probeNatsConsumer, probeNatsPublish, probeNatsStream } from './nats';
import { probePostgres } from './postgres';
import { judge } from './tolerance';
import { probeWebsocket, websocketBudgetMs } from './websocket';

const DEFAULT_TIMEOUT = '2s';

/** What some probe families need besides their spec. */
export interface ProbeContext {
  /** The Docker engine, for docker-container, docker-logs and command probes in a container. */
  docker?: Docker;
  /** When the experiment began and its first fault was injected, for docker-logs; its start keys websocket probes' shared connections. */
  window?: ProbeWindow;
  /** Where `${env:NAME}` references in a probe are resolved from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

function dockerOf(ctx: ProbeContext, kind: string): Docker {
  if (!ctx.docker) throw new Error(`a ${kind} probe needs a Docker engine, and none was given`);
  return ctx.docker;
}

/** Measures once with the probe's own family; throws when the probe fails. */
function measure(probe: ProbeSpec, timeoutMs: number, ctx: ProbeContext): Promise<Measurement> {
  switch (probe.kind) {
    case 'docker-container':
      return probeDockerContainer(dockerOf(ctx, probe.kind), probe);
    case 'docker-logs':
      return probeDockerLogs(dockerOf(ctx, probe.kind), probe, ctx.window);
    case 'http-latency':
      return probeHttpLatency(probe, timeoutMs);
    case 'http':
      return probeHttp(probe, timeoutMs);
    case 'nats-stream':
      return probeNatsStream(probe, timeoutMs);
    case 'nats-consumer':
      return probeNatsConsumer(probe, timeoutMs);
    case 'nats-publish':
      return probeNatsPublish(probe, timeoutMs);
    case 'postgres':
      return probePostgres(probe, timeoutMs);
    case 'command':
      return probeCommand(probe, timeoutMs, () => dockerOf(ctx, 'command'));
    case 'websocket':
      return probeWebsocket(probe, timeoutMs, ctx.window);
  }
}

/** Rejects after `ms`: a probe never outlasts its timeout, whatever its client library does. */
function deadline(ms: number): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`TIMEOUT after ${ms} ms`)), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

function errorText(e: unknown): string {
  const err = e as { code?: unknown; message?: string; name?: string };
  const code = typeof err.code === 'string' && err.code && !err.message?.includes(err.code) ? `${err.code}: ` : '';
  return `${code}${err.message || err.name || String(e)}`;
}

/** The longest one round of `checks` may take: the slowest check's budget, and the slack runCheck gives it. */
export function roundBudgetMs(checks: (SteadyStateCheck | ObserveCheck)[]): number {
  return Math.max(0, ...checks.map((c) => budgetMs(c.probe, durationMs(c.probe.timeout ?? DEFAULT_TIMEOUT)) + 500));
}

/** The longest one sample may take: the timeout, or for http-latency and websocket their window and a timeout. */
function budgetMs(probe: ProbeSpec, timeoutMs: number): number {
  if (probe.kind === 'http-latency') return httpLatencyBudgetMs(probe, timeoutMs);
  if (probe.kind === 'websocket') return websocketBudgetMs(probe, timeoutMs);
  return timeoutMs;
}

/**
 * Runs one check's probe and judges its expectations. A probe that fails is a sample with
 * `error` set (and every expectation on a missing field failed), never an exception: during
 * a fault, a failing probe is the observation. Secret references in the probe are resolved here,
 * for this measurement only, and their values scrubbed from the sample (an unset variable is the
 * sample's error).
 */
export async function runCheck(check: SteadyStateCheck | ObserveCheck, stage: Stage, ctx: ProbeContext = {}): Promise<ProbeSample> {
  const timeoutMs = durationMs(check.probe.timeout ?? DEFAULT_TIMEOUT);
  const at = new Date();
  const started = performance.now();
  let measurement: Measurement;
  let error = '';
  let secrets: string[] = [];
  // Client libraries honour their timeouts loosely; a little slack before ours fires.
  const guard = deadline(budgetMs(check.probe, timeoutMs) + 500);
  try {
    const resolved = resolveSecrets(check.probe, ctx.env ?? process.env, `the probe of '${check.name}'`);
    secrets = resolved.secrets;
    measurement = scrub(await Promise.race([measure(resolved.value, timeoutMs, ctx), guard.promise]), secrets);
  } catch (e) {
    error = scrubText(errorText(e), secrets);
    measurement = {};
  } finally {
    guard.clear();
  }
  measurement.latencyMs = Math.round(performance.now() - started);
  measurement.error = error;
  const expectations = judge(check.expect, measurement, error);
  const ok = expectations.length > 0 ? expectations.every((e) => e.ok) : error === '';
  return { check: check.name, stage, at: at.toISOString(), measurement, error, expectations, ok };
}
