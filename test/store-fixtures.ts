/**
 * A run as the experiment workflow records it, for the results store's tests: a real plan (parsed
 * and planned like any experiment file), a fault reverted, a guardrail breached, every kind of sample.
 */
import { parseExperiment, planExperiment } from '../src/spec/loader';
import type { StoredSample } from '../src/store/types';
import type { Journal, Measurement, ProbeSample, Stage } from '../src/types';

const T0 = Date.parse('2026-12-01T20:00:00.000Z');

/** The instant `ms` after the run's start, as the journal writes times. */
export function at(ms: number): string {
  return new Date(T0 + ms).toISOString();
}

/** One sample of `check`, taken `seq` seconds into the run. */
export function sample(check: string, seq: number, measurement: Measurement = { latencyMs: 3 + (seq % 7), messages: seq }, stage: Stage = 'observe'): ProbeSample {
  const ok = seq % 5 !== 4;
  return {
    check,
    stage,
    at: at(seq * 1000),
    measurement,
    error: ok ? '' : 'timeout after 1500 ms',
    expectations: [{ field: 'latencyMs', expected: 'at most 2500', observed: String(measurement.latencyMs ?? 'no value'), ok }],
    ok,
  };
}

/** `count` samples of one check in one phase, seq from `from`. */
export function samples(phase: StoredSample['phase'], check: string, from: number, count: number): StoredSample[] {
  return Array.from({ length: count }, (_, i) => ({ phase, seq: from + i, sample: sample(check, from + i) }));
}

export const SPEC = parseExperiment({
  id: 'store-001-nats-pause',
  title: 'NATS paused, written to the results store',
  hypothesis: 'Publishes fail fast while the broker is paused.',
  remediation: 'Publish from an outbox.',
  targets: { nats: { kind: 'docker', container: 'store-nats' } },
  steadyState: [{ name: 'stream answers', probe: { kind: 'nats-stream', url: 'nats://127.0.0.1:14299', stream: 'tasks' }, expect: { messages: { atLeast: 0 }, latencyMs: { atMost: 1000 } } }],
  method: [{ fault: { kind: 'docker-pause', target: 'nats' }, duration: '5s' }],
  observe: { interval: '1s', probes: [{ name: 'publishes fail fast', probe: { kind: 'nats-publish', url: 'nats://127.0.0.1:14299', subject: 'tasks.x' }, expect: { latencyMs: { atMost: 2500 } } }] },
  guardrails: [{ name: 'api answers', probe: { kind: 'http', url: 'http://127.0.0.1:18999/health' }, abortWhen: { latencyMs: { atLeast: 5000 } } }],
});

/** The finished journal of a run of SPEC: failed, rolled back, stopped by its guardrail. */
export function journalFixture(workflowId = 'store-test-1', runId = 'run-1'): Journal {
  const plan = planExperiment(SPEC, 'inline');
  return {
    workflowId,
    runId,
    experimentId: SPEC.id,
    title: SPEC.title,
    hypothesis: SPEC.hypothesis,
    source: 'inline',
    startedAt: at(0),
    finishedAt: at(30_000),
    verdict: 'failed',
    reason: 'an expectation was not met during the fault',
    plan,
    targets: [{ name: 'nats', kind: 'docker', selector: 'container store-nats', refs: [{ id: 'c0ffee', name: 'store-nats' }], spec: SPEC.targets.nats }],
    baseline: [sample('stream answers', 0, { messages: 5, latencyMs: 2 }, 'baseline')],
    observations: [1, 2, 3, 4, 5].map((s) => sample('publishes fail fast', s)),
    verification: [sample('stream answers', 20, { messages: 9, latencyMs: 3 }, 'verify')],
    hypothesisVsReality: [
      { expectation: 'stream answers', when: 'baseline', expected: 'messages at least 0', observed: '5', ok: true },
      { expectation: 'publishes fail fast', when: 'during the fault', expected: 'latencyMs at most 2500', observed: '4 of 5 samples', ok: false },
      { expectation: 'stream answers', when: 'after recovery', expected: 'messages at least 0', observed: '9', ok: true },
    ],
    rollback: {
      status: 'complete',
      faults: [
        {
          id: 'f1',
          step: 0,
          fault: SPEC.method[0].fault,
          target: { name: 'nats', kind: 'docker', selector: 'container store-nats', refs: [{ id: 'c0ffee', name: 'store-nats' }] },
          status: 'reverted',
          description: 'pause container store-nats',
          tag: 'gameday-0badcafe-f1',
          durationMs: 5000,
          injectedAt: at(1000),
          dueAt: at(6000),
          revertedAt: at(6100),
        },
      ],
    },
    abort: { reason: "guardrail 'api answers' breached", at: at(4000) },
    // A guardrail's expectations are its abort conditions: the store reads one met back as breached.
    guardrails: [1, 2, 3].map((s) => sample('api answers', s)).map((g) => ({ ...g, breached: g.expectations.some((e) => e.ok) })),
    breach: { guardrail: 'api answers', at: at(3000), condition: 'latencyMs at least 5000', observed: 'latencyMs 5012' },
    events: [
      { at: at(0), stage: 'baseline', message: 'baseline: 1 check' },
      { at: at(1000), stage: 'inject', message: 'injected f1: pause container store-nats' },
      { at: at(6100), stage: 'rollback', message: 'reverted f1' },
    ],
  };
}

/** The journal's samples as the activities write them: each check's samples in a phase numbered from 0. */
export function storedSamples(j: Journal): StoredSample[] {
  const numbered = (phase: StoredSample['phase'], list: ProbeSample[]) => {
    const next = new Map<string, number>();
    return list.map((sample) => {
      const seq = next.get(sample.check) ?? 0;
      next.set(sample.check, seq + 1);
      return { phase, seq, sample };
    });
  };
  return [...numbered('baseline', j.baseline), ...numbered('observe', j.observations), ...numbered('guardrail', j.guardrails), ...numbered('verify', j.verification)];
}
