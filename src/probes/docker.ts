import type Docker from 'dockerode';
import type { z } from 'zod';
import { durationMs } from '../spec/loader';
import type { dockerContainerProbeSchema, dockerLogsProbeSchema } from '../spec/schema';
import type { Measurement, ProbeWindow } from '../types';

export type DockerContainerProbe = z.infer<typeof dockerContainerProbeSchema>;
export type DockerLogsProbe = z.infer<typeof dockerLogsProbeSchema>;

const LAST_MATCH_LIMIT = 200;

async function inspect(docker: Docker, container: string): Promise<Docker.ContainerInspectInfo> {
  try {
    return await docker.getContainer(container).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) throw new Error(`no container named ${container}`);
    throw e;
  }
}

/**
 * What `docker inspect` says of a container: running, paused, status (running, exited …), health
 * (healthy, unhealthy, starting, or none without a HEALTHCHECK), restartCount, exitCode, oomKilled.
 * A container that does not exist is a probe error.
 */
export async function probeDockerContainer(docker: Docker, probe: DockerContainerProbe): Promise<Measurement> {
  const info = await inspect(docker, probe.container);
  const s = info.State;
  return {
    running: s.Running,
    paused: s.Paused,
    status: s.Status,
    health: s.Health?.Status ?? 'none',
    restartCount: info.RestartCount,
    exitCode: s.ExitCode,
    oomKilled: s.OOMKilled,
  };
}

/**
 * Where a docker-logs probe starts counting, in ms since the epoch: the last `since` when it is a
 * duration; the baseline's start for `baseline`; for `fault` (the default) the first fault's
 * injection, or the baseline's start before any fault. Without a window (outside an experiment)
 * `fault` and `baseline` count the whole log.
 */
export function logsStartMs(since: DockerLogsProbe['since'], window: ProbeWindow | undefined, now = Date.now()): number {
  if (since !== undefined && since !== 'fault' && since !== 'baseline') return now - durationMs(since);
  if (!window) return 0;
  const at = since === 'baseline' ? window.baselineStartedAt : (window.faultStartedAt ?? window.baselineStartedAt);
  return Date.parse(at);
}

/**
 * The lines of a `docker logs` answer. Without a TTY Docker multiplexes stdout and stderr in
 * frames (1 byte stream, 3 zero bytes, 4 bytes big-endian length, payload); with one, the bytes
 * come as they are.
 */
export function logLines(raw: Buffer, tty: boolean): string[] {
  let text = '';
  if (tty) text = raw.toString('utf8');
  else {
    const parts: Buffer[] = [];
    for (let at = 0; at + 8 <= raw.length; ) {
      const size = raw.readUInt32BE(at + 4);
      parts.push(raw.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    text = Buffer.concat(parts).toString('utf8');
  }
  return text.split('\n').filter((l) => l !== '');
}

/** Milliseconds of a Docker log timestamp (RFC 3339 with up to nanoseconds, in UTC). */
function timestampMs(ts: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  if (!m) return Number.NaN;
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/**
 * Counts the lines of a container's log (stdout and stderr) written since the start of its window
 * (logsStartMs) that match the pattern: `matches`, `lines` (all lines in the window), `lastMatch`
 * (the newest matching line, at most 200 characters; empty when none) and `countedSince`.
 */
export async function probeDockerLogs(docker: Docker, probe: DockerLogsProbe, window?: ProbeWindow): Promise<Measurement> {
  const info = await inspect(docker, probe.container);
  const startMs = logsStartMs(probe.since, window);
  // Docker filters by whole seconds; the timestamps filter the rest exactly.
  const raw = (await docker.getContainer(probe.container).logs({ stdout: true, stderr: true, timestamps: true, follow: false, since: Math.floor(startMs / 1000) })) as unknown as Buffer;
  const pattern = new RegExp(probe.pattern);
  let lines = 0;
  let matches = 0;
  let lastMatch = '';
  for (const line of logLines(raw, info.Config.Tty)) {
    const space = line.indexOf(' ');
    const at = timestampMs(space < 0 ? line : line.slice(0, space));
    if (!(at >= startMs)) continue;
    const text = space < 0 ? '' : line.slice(space + 1);
    lines++;
    if (pattern.test(text)) {
      matches++;
      lastMatch = text.slice(0, LAST_MATCH_LIMIT);
    }
  }
  return { matches, lines, lastMatch, countedSince: new Date(startMs).toISOString() };
}
