/**
 * The experiments the bench runs: a docker-pause of one container of the bench's own, with a
 * steady state, observe probes and guardrails on the bench's HTTP endpoint (or on the container
 * itself), at the sampling rates each part needs.
 */
import type { Experiment } from '../src/spec/schema';

/** What varies between the bench's experiments. */
export interface PauseOptions {
  id: string;
  container: string;
  /** How long the container stays paused ("20s"). */
  duration: string;
  /** The bench's HTTP endpoint (startHttpTarget's url). */
  url: string;
  /** The observe probes' interval; no observe probe when absent. */
  observeInterval?: string;
  /** The guardrail's interval; no guardrail when absent. */
  guardrailInterval?: string;
  /** The path the guardrail probes; it aborts on a status of 500 or more. Default `/guard`. */
  guardrailPath?: string;
  /** `http` (default): probes GET the bench's endpoint; `docker`: probes inspect the container. */
  probe?: 'http' | 'docker';
}

/** A pause of `container` with the probes the options ask for. */
export function pauseSpec(o: PauseOptions): Experiment {
  const probe = o.probe === 'docker' ? { kind: 'docker-container' as const, container: o.container, timeout: '2s' } : { kind: 'http' as const, url: `${o.url}/observe`, timeout: '2s' };
  return {
    id: o.id,
    title: `bench: pause ${o.container} for ${o.duration}`,
    hypothesis: 'the container runs again once the pause is reverted',
    targets: { c: { kind: 'docker', container: o.container } },
    steadyState: [{ name: 'endpoint answers', probe: { kind: 'http', url: `${o.url}/steady`, timeout: '2s' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'c' }, duration: o.duration }],
    ...(o.observeInterval ? { observe: { interval: o.observeInterval, probes: [{ name: 'observed', probe }] } } : {}),
    ...(o.guardrailInterval
      ? { guardrails: [{ name: 'guard', probe: { kind: 'http' as const, url: `${o.url}${o.guardrailPath ?? '/guard'}`, timeout: '2s' }, abortWhen: { status: { atLeast: 500 } }, interval: o.guardrailInterval }] }
      : {}),
    recovery: { within: '10s', interval: '200ms' },
  } as Experiment;
}
