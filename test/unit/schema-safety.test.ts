/** Validation of the safety fields: guardrails, blast radius (pick, maxTargets) and locks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidExperimentError, type SpecProblem } from '../../src/errors';
import { parseExperiment } from '../../src/spec/loader';

function base(): Record<string, unknown> & { targets: Record<string, Record<string, unknown>>; method: Record<string, unknown>[] } {
  return {
    id: 'safety',
    title: 'safety fields',
    hypothesis: 'nothing breaks',
    targets: { nats: { kind: 'docker', labels: { app: 'nats' } } },
    steadyState: [{ name: 'up', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'nats' }, duration: '5s' }],
  };
}

function problems(doc: unknown): SpecProblem[] {
  try {
    parseExperiment(doc, 'x.yaml');
  } catch (e) {
    if (e instanceof InvalidExperimentError) return e.problems;
    throw e;
  }
  return [];
}

test('guardrails, pick, maxTargets and lock validate when well formed', () => {
  const doc = base();
  doc.targets.nats.pick = { percent: 50 };
  doc.method[0].maxTargets = 3;
  doc.guardrails = [{ name: 'api fast', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, abortWhen: { latencyMs: { atLeast: 5000 } }, interval: '500ms' }];
  doc.lock = { whenBusy: 'wait', waitAtMost: '2m' };
  assert.deepEqual(problems(doc), []);
});

test('a guardrail condition on a field its probe does not measure names the field under abortWhen', () => {
  const doc = base();
  doc.guardrails = [{ name: 'g', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, abortWhen: { pending: { atLeast: 5 } } }];
  assert.deepEqual(problems(doc), [
    { file: 'x.yaml', path: 'guardrails.0.abortWhen.pending', message: "an http probe does not measure 'pending' (it measures: status, body, latencyMs, error)" },
  ]);
});

test('a guardrail without conditions is refused', () => {
  const doc = base();
  doc.guardrails = [{ name: 'g', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, abortWhen: {} }];
  assert.deepEqual(problems(doc), [{ file: 'x.yaml', path: 'guardrails.0.abortWhen', message: 'a guardrail needs at least one condition' }]);
});

test('a guardrail condition written as a bare number gets the tolerance hint', () => {
  const doc = base();
  doc.guardrails = [{ name: 'g', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, abortWhen: { latencyMs: 5000 } }];
  assert.deepEqual(problems(doc), [{ file: 'x.yaml', path: 'guardrails.0.abortWhen.latencyMs', message: 'a tolerance is an object, not 5000: write { equals: 5000 } or { atMost: 5000 }' }]);
});

test('pick on a target named by container is refused: it applies to label selectors', () => {
  const doc = base();
  doc.targets.nats = { kind: 'docker', container: 'demo-nats', pick: { count: 1 } };
  assert.deepEqual(problems(doc), [{ file: 'x.yaml', path: 'targets.nats.pick', message: 'pick applies to a label selector or a compose service only' }]);
});

test('a pick that is neither a count of at least 1 nor a percent in (0, 100] says what it takes', () => {
  const cases: [unknown, string, string][] = [
    [{ count: 0 }, 'targets.nats.pick.count', 'count must be at least 1'],
    [{ percent: 150 }, 'targets.nats.pick.percent', 'percent must be at most 100'],
    [{ percent: 0 }, 'targets.nats.pick.percent', 'percent must be more than 0'],
    [{ some: 2 }, 'targets.nats.pick', 'expected { count: n } or { percent: p } (0 < p <= 100)'],
  ];
  for (const [pick, path, message] of cases) {
    const doc = base();
    doc.targets.nats.pick = pick;
    assert.deepEqual(problems(doc), [{ file: 'x.yaml', path, message }], JSON.stringify(pick));
  }
});

test('maxTargets must be a whole number of at least 1', () => {
  const doc = base();
  doc.method[0].maxTargets = 0;
  const [p] = problems(doc);
  assert.equal(p.path, 'method.0.maxTargets');
  assert.match(p.message, /1/);
});

test('lock.whenBusy takes refuse or wait', () => {
  const doc = base();
  doc.lock = { whenBusy: 'queue' };
  assert.deepEqual(problems(doc), [{ file: 'x.yaml', path: 'lock.whenBusy', message: '"queue" is not one of "refuse", "wait"' }]);
});

test('a compose service target takes pick, and names a service; a bad project name or a second selector is refused by field', () => {
  const doc = base();
  doc.targets.nats = { kind: 'docker', compose: { service: 'nats', project: 'demo' }, pick: { count: 1 } };
  assert.deepEqual(problems(doc), []);
  doc.targets.nats = { kind: 'docker', compose: { service: 'nats', project: 'my project' } };
  assert.deepEqual(problems(doc), [{ file: 'x.yaml', path: 'targets.nats.compose.project', message: 'expected a compose name of letters, digits, dashes, underscores and dots, such as nats' }]);
  doc.targets.nats = { kind: 'docker', container: 'demo-nats', compose: { service: 'nats' } };
  assert.deepEqual(problems(doc), [{ file: 'x.yaml', path: 'targets.nats', message: 'give exactly one of container, labels or compose' }]);
  doc.targets.nats = { kind: 'docker', compose: { project: 'demo' } };
  assert.deepEqual(problems(doc), [{ file: 'x.yaml', path: 'targets.nats.compose.service', message: 'required' }]);
});
