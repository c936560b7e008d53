/**
 * The loader: durations, YAML parsing, reading files, the plan with its defaults, and finding an
 * experiment by id in a catalog folder.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { FailureType, GamedayError, InvalidExperimentError, type SpecProblem } from '../../src/errors';
import { durationMs, findExperiment, loadExperimentFile, parseDocument, parseExperiment, planExperiment } from '../../src/spec/loader';
import type { Experiment } from '../../src/spec/schema';

/** A small valid experiment; no observe or recovery unless a test adds them. */
function experiment(id: string): Experiment {
  return {
    id,
    title: `experiment ${id}`,
    hypothesis: 'the stream answers again once the broker resumes',
    targets: { nats: { kind: 'docker', container: 'demo-nats' } },
    steadyState: [
      {
        name: 'stream answers',
        probe: { kind: 'nats-stream', url: 'nats://127.0.0.1:14222', stream: 'tasks' },
        expect: { error: { equals: '' } },
      },
    ],
    method: [{ fault: { kind: 'docker-pause', target: 'nats' }, duration: '15s' }],
  };
}

/** The problems of an InvalidExperimentError thrown by fn. */
async function problemsOf(fn: () => unknown): Promise<SpecProblem[]> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof InvalidExperimentError, `expected an InvalidExperimentError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected an InvalidExperimentError, but nothing was thrown');
}

describe('durationMs', () => {
  test('Durations in milliseconds, seconds, fractional minutes and hours convert to milliseconds.', () => {
    assert.equal(durationMs('500ms'), 500);
    assert.equal(durationMs('30s'), 30_000);
    assert.equal(durationMs('1.5m'), 90_000);
    assert.equal(durationMs('1h'), 3_600_000);
  });

  test('A string that is not a duration throws, naming it.', () => {
    assert.throws(() => durationMs('soon'), { message: 'not a duration: soon' });
  });
});

describe('parseDocument', () => {
  const FILE = 'broken.yaml';

  test('YAML text parses into plain objects, and JSON parses as YAML.', () => {
    assert.deepEqual(parseDocument('id: a\nmethod:\n  - duration: 1s\n', FILE), { id: 'a', method: [{ duration: '1s' }] });
    assert.deepEqual(parseDocument('{"id": "a", "n": 1}', 'a.json'), { id: 'a', n: 1 });
  });

  test('Broken YAML is reported as one problem naming the file, with the line and the parser\'s reason.', async () => {
    assert.deepEqual(await problemsOf(() => parseDocument('id: x\ntitle: t\n\tbad: tab\n', FILE)), [
      { file: FILE, path: '', message: 'line 3: Tabs are not allowed as indentation' },
    ]);
  });

  test('A YAML syntax error names the line it is on, counting blank lines.', async () => {
    assert.deepEqual(await problemsOf(() => parseDocument('id: x\n\ntitle: t\n\n\tbad: tab\n', FILE)), [
      { file: FILE, path: '', message: 'line 5: Tabs are not allowed as indentation' },
    ]);
  });

  test('The error message of broken YAML reads file: line: reason.', () => {
    assert.throws(() => parseDocument('id: x\ntitle: t\n\tbad: tab\n', 'y.yaml'), { message: 'y.yaml: line 3: Tabs are not allowed as indentation' });
  });

  test('A YAML file with a duplicate key is rejected, naming the file.', async () => {
    assert.deepEqual(await problemsOf(() => parseDocument('id: x\ntitle: t\nid: y\n', FILE)), [
      { file: FILE, path: '', message: 'line 3: Map keys must be unique' },
    ]);
  });

  test('A duplicate key names the line of its second occurrence.', async () => {
    assert.deepEqual(await problemsOf(() => parseDocument('id: x\ntitle: t\nhypothesis: h\n\nid: y\n', FILE)), [
      { file: FILE, path: '', message: 'line 5: Map keys must be unique' },
    ]);
  });

  test('Each duplicate key is reported as its own problem, on its own line.', async () => {
    assert.deepEqual(await problemsOf(() => parseDocument('a: 1\nb: 2\na: 3\nb: 4\n', FILE)), [
      { file: FILE, path: '', message: 'line 3: Map keys must be unique' },
      { file: FILE, path: '', message: 'line 4: Map keys must be unique' },
    ]);
  });
});

describe('loadExperimentFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-loader-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('A missing file is reported as a problem saying it cannot be read, naming the file.', async () => {
    const file = path.join(dir, 'missing.yaml');
    assert.deepEqual(await problemsOf(() => loadExperimentFile(file)), [{ file, path: '', message: 'cannot read the file: ENOENT' }]);
  });

  test('A file that does not validate is reported with the problems named after the file.', async () => {
    const file = path.join(dir, 'invalid.yaml');
    await writeFile(file, YAML.stringify({ ...experiment('invalid'), id: 'Invalid' }));
    assert.deepEqual(await problemsOf(() => loadExperimentFile(file)), [
      { file, path: 'id', message: 'expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause' },
    ]);
  });

  test('A valid YAML file loads as its experiment.', async () => {
    const file = path.join(dir, 'valid.yaml');
    await writeFile(file, YAML.stringify(experiment('valid')));
    assert.deepEqual(await loadExperimentFile(file), experiment('valid'));
  });
});

describe('planExperiment', () => {
  test('Without observe, recovery or lock, the plan observes every 1s, expects recovery within 30s checked every 1s, and waits for a busy target at most 10m.', () => {
    const spec = parseExperiment(experiment('defaults'));
    const plan = planExperiment(spec, 'inline');
    assert.equal(plan.spec, spec);
    assert.equal(plan.source, 'inline');
    assert.deepEqual(plan.timing, { faultMs: [15_000], observeIntervalMs: 1_000, recoveryWithinMs: 30_000, recoveryIntervalMs: 1_000, guardrailIntervalMs: [], lockWaitMs: 600_000 });
  });

  test('Durations the experiment gives are converted to milliseconds, one fault duration per method step.', () => {
    const spec = parseExperiment({
      ...experiment('timed'),
      method: [
        { fault: { kind: 'docker-pause', target: 'nats' }, duration: '1.5m' },
        { fault: { kind: 'docker-restart', target: 'nats' }, duration: '500ms' },
      ],
      observe: { interval: '250ms' },
      recovery: { within: '2m', interval: '2s' },
      guardrails: [
        { name: 'fast', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, abortWhen: { latencyMs: { atLeast: 5000 } }, interval: '300ms' },
        { name: 'default', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, abortWhen: { status: { equals: 500 } } },
      ],
      lock: { whenBusy: 'wait', waitAtMost: '1m' },
    });
    assert.deepEqual(planExperiment(spec, 'experiments/timed.yaml').timing, {
      faultMs: [90_000, 500],
      observeIntervalMs: 250,
      recoveryWithinMs: 120_000,
      recoveryIntervalMs: 2_000,
      guardrailIntervalMs: [300, 1_000],
      lockWaitMs: 60_000,
    });
  });

  test('A recovery that gives only within still checks every 1s.', () => {
    const spec = parseExperiment({ ...experiment('within-only'), recovery: { within: '45s' } });
    const timing = planExperiment(spec, 'inline').timing;
    assert.equal(timing.recoveryWithinMs, 45_000);
    assert.equal(timing.recoveryIntervalMs, 1_000);
    assert.equal('recoveryAfterMs' in timing, false, 'no wait before verifying unless the file asks for one');
  });

  test('recovery.after becomes the wait before the first verification.', () => {
    const spec = parseExperiment({ ...experiment('settle'), recovery: { within: '1m', after: '35s' } });
    assert.equal(planExperiment(spec, 'inline').timing.recoveryAfterMs, 35_000);
  });
});

describe('findExperiment', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-catalog-'));
    await writeFile(path.join(dir, 'alpha.yaml'), YAML.stringify(experiment('alpha')));
    await writeFile(path.join(dir, 'beta-experiment.yml'), YAML.stringify(experiment('beta')));
    await writeFile(path.join(dir, 'gamma.json'), JSON.stringify(experiment('gamma')));
    await writeFile(path.join(dir, 'named-wrong.yaml'), YAML.stringify(experiment('actually-delta')));
    // A broken file in the catalog must not hide the others.
    await writeFile(path.join(dir, 'broken.yaml'), 'id: [unclosed\n');
    // Files of other kinds are not experiments, even when they carry an id.
    await writeFile(path.join(dir, 'notes.txt'), 'id: notes\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('An experiment is found by its file name.', async () => {
    const found = await findExperiment(dir, 'alpha');
    assert.equal(found.file, path.join(dir, 'alpha.yaml'));
    assert.equal(found.spec.id, 'alpha');
    assert.equal(found.spec.title, 'experiment alpha');
  });

  test('A JSON file is found by its file name too.', async () => {
    const found = await findExperiment(dir, 'gamma');
    assert.equal(found.file, path.join(dir, 'gamma.json'));
    assert.equal(found.spec.id, 'gamma');
  });

  test('An experiment is found by its id in a file named otherwise, despite a broken file beside it.', async () => {
    const found = await findExperiment(dir, 'beta');
    assert.equal(found.file, path.join(dir, 'beta-experiment.yml'));
    assert.equal(found.spec.id, 'beta');
  });

  test('A file named after the id asked for but holding another id is an error at its id.', async () => {
    const file = path.join(dir, 'named-wrong.yaml');
    assert.deepEqual(await problemsOf(() => findExperiment(dir, 'named-wrong')), [
      { file, path: 'id', message: "the file is named after 'named-wrong' but its id is 'actually-delta'" },
    ]);
  });

  test('An unknown id throws ExperimentNotFound, naming the folder and listing the ids it holds.', async () => {
    let error: unknown;
    try {
      await findExperiment(dir, 'nope');
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof GamedayError, `expected a GamedayError, got ${String(error)}`);
    assert.equal(error.type, FailureType.ExperimentNotFound);
    assert.ok(!(error instanceof InvalidExperimentError), 'not found is not an invalid experiment');
    const match = /^no experiment 'nope' in (.+) \(it holds: (.*)\)$/.exec(error.message);
    assert.ok(match, `unexpected message: ${error.message}`);
    assert.equal(match[1], dir);
    assert.deepEqual(match[2]?.split(', ').sort(), ['actually-delta', 'alpha', 'beta', 'gamma']);
  });

  test('An unknown id in an empty or missing folder says the folder holds none.', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'gameday-empty-'));
    try {
      await assert.rejects(findExperiment(empty, 'nope'), { type: FailureType.ExperimentNotFound, message: `no experiment 'nope' in ${empty} (it holds: none)` });
      const missing = path.join(empty, 'does-not-exist');
      await assert.rejects(findExperiment(missing, 'nope'), { type: FailureType.ExperimentNotFound, message: `no experiment 'nope' in ${missing} (it holds: none)` });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
