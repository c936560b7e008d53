import type { z } from 'zod';
import type { httpProbeSchema } from '../spec/schema';
import type { Measurement } from '../types';

export type HttpProbe = z.infer<typeof httpProbeSchema>;

const BODY_LIMIT = 2048;

/** Sends one request; measures the status and the body (its first 2 KiB). */
export async function probeHttp(probe: HttpProbe, timeoutMs: number): Promise<Measurement> {
  const response = await fetch(probe.url, {
    method: probe.method ?? 'GET',
    headers: probe.headers,
    body: probe.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.text();
  return { status: response.status, body: body.slice(0, BODY_LIMIT) };
}
