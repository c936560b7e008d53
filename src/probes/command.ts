import type Docker from 'dockerode';
import type { z } from 'zod';
import { describeResult, runInContainer, runOnHost, type CommandResult } from '../commands/exec';
import type { commandProbeSchema } from '../spec/schema';
import type { Measurement } from '../types';

export type CommandProbe = z.infer<typeof commandProbeSchema>;

/** The most of a command's output a sample keeps (the whole captured output is matched). */
export const SAMPLE_OUTPUT_CHARS = 1000;

/**
 * Runs the probe's command, in its container or on the worker's host: its exit status, its output
 * (stdout and stderr, at most SAMPLE_OUTPUT_CHARS kept) and, with `match`, whether the output
 * matched. A non-zero exit is a measurement; a command that outlasts the timeout is killed and
 * the sample's error; a container that does not exist or does not run is the sample's error too.
 */
export async function probeCommand(probe: CommandProbe, timeoutMs: number, docker: () => Docker): Promise<Measurement> {
  let r: CommandResult;
  if (probe.container === undefined) r = await runOnHost(probe.command, { timeoutMs });
  else {
    try {
      r = await runInContainer(docker(), probe.container, probe.command, { timeoutMs });
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status === 404) throw new Error(`no container named ${probe.container}`);
      if (status === 409) throw new Error(`container ${probe.container} does not run (stopped or paused): the command could not run in it`);
      throw e;
    }
  }
  if (r.timedOut) throw new Error(`TIMEOUT: the command ${describeResult(r, timeoutMs)}`);
  const output = r.output.length > SAMPLE_OUTPUT_CHARS ? `${r.output.slice(0, SAMPLE_OUTPUT_CHARS)}…` : r.output;
  return { exitCode: r.exitCode, output, ...(probe.match !== undefined ? { matched: new RegExp(probe.match).test(r.output) } : {}) };
}
