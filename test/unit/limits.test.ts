/**
 * The bounds of src/spec/limits.ts: each duration, count and list, the experiment as a whole,
 * and a file's size, nesting, aliases and strings. Each is asserted as the one line a user sees:
 * the file, the field's path, the problem.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidExperimentError, type SpecProblem } from '../../src/errors';
import { loadSpecFile, parseDocument, parseExperiment, parseScenario } from '../../src/spec/loader';
import { scheduleSchema } from '../../src/spec/schedule';
import { minimalExperiment } from '../spec-fixtures';

type Doc = Record<string, unknown> & { targets: Record<string, Record<string, unknown>>; steadyState: Record<string, unknown>[]; method: Record<string, unknown>[] };

function base(): Doc {
  return minimalExperiment({ id: 'bounds', title: 'bounds', hypothesis: 'nothing breaks' }) as Doc;
}

function problemsOf(fn: () => unknown): SpecProblem[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidExperimentError) return e.problems;
    throw e;
  }
  return [];
}

const FILE = 'x.yaml';
const only = (doc: unknown, path: string, message: string): void => assert.deepEqual(problemsOf(() => parseExperiment(doc, FILE)), [{ file: FILE, path, message }]);
const withFault = (fault: Record<string, unknown>, target: Record<string, unknown> = { kind: 'docker', container: 'demo-nats' }): Doc => ({ ...base(), targets: { t: target }, method: [{ fault: { target: 't', ...fault }, duration: '5s' }] });
const withProbe = (probe: Record<string, unknown>, expect: Record<string, unknown> = { latencyMs: { atMost: 1000 } }): Doc => ({ ...base(), steadyState: [{ name: 'p', probe, expect }] });

describe('duration bounds', () => {
  test('A fault lasts at most 24h: 99999999999h is one problem, not a timer of 10^11 hours.', () => {
    const doc = base();
    doc.method[0].duration = '99999999999h';
    only(doc, 'method.0.duration', 'duration must be at most 24h');
  });

  test('A fault lasts at least 100ms.', () => {
    const doc = base();
    doc.method[0].duration = '50ms';
    only(doc, 'method.0.duration', 'duration must be at least 100ms');
  });

  test('The faults of an experiment add up to at most 24h.', () => {
    const doc = base();
    doc.method = [
      { fault: { kind: 'docker-pause', target: 'nats' }, duration: '13h' },
      { fault: { kind: 'docker-kill', target: 'nats' }, duration: '13h' },
    ];
    only(doc, 'method', "the faults add up to 26h; an experiment's faults last at most 24h in all");
  });

  test('The observe interval is at least 10ms and at most 1h.', () => {
    only({ ...base(), observe: { interval: '0ms' } }, 'observe.interval', 'interval must be at least 10ms');
    only({ ...base(), observe: { interval: '2h' } }, 'observe.interval', 'interval must be at most 1h');
  });

  test("A guardrail's interval is at least 10ms.", () => {
    const guardrails = [{ name: 'g', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, abortWhen: { latencyMs: { atLeast: 5000 } }, interval: '5ms' }];
    only({ ...base(), guardrails }, 'guardrails.0.interval', 'interval must be at least 10ms');
  });

  test('Recovery: within and after at most 1h, its interval between 10ms and 10m.', () => {
    only({ ...base(), recovery: { within: '2h' } }, 'recovery.within', 'within must be at most 1h');
    only({ ...base(), recovery: { within: '30s', after: '61m' } }, 'recovery.after', 'after must be at most 1h');
    only({ ...base(), recovery: { within: '30s', interval: '0ms' } }, 'recovery.interval', 'interval must be at least 10ms');
    only({ ...base(), recovery: { within: '30s', interval: '11m' } }, 'recovery.interval', 'interval must be at most 10m');
  });

  test('A lock is waited for at most 24h.', () => {
    only({ ...base(), lock: { whenBusy: 'wait', waitAtMost: '25h' } }, 'lock.waitAtMost', 'waitAtMost must be at most 24h');
  });

  test('A probe timeout is between 10ms and 1m, inside its activity.', () => {
    only(withProbe({ kind: 'http', url: 'http://127.0.0.1:8080/health', timeout: '5m' }), 'steadyState.0.probe.timeout', 'timeout must be at most 1m');
    only(withProbe({ kind: 'nats-stream', url: 'nats://127.0.0.1:4222', stream: 'tasks', timeout: '1ms' }), 'steadyState.0.probe.timeout', 'timeout must be at least 10ms');
  });

  test('A docker-logs window reaches back at most 24h; fault and baseline still work.', () => {
    const logs = (since: string) => withProbe({ kind: 'docker-logs', container: 'c', pattern: 'ERROR', since }, { matches: { equals: 0 } });
    only(logs('48h'), 'steadyState.0.probe.since', 'since must be at most 24h');
    assert.deepEqual(problemsOf(() => parseExperiment(logs('fault'), FILE)), []);
    assert.deepEqual(problemsOf(() => parseExperiment(logs('30s'), FILE)), []);
  });

  test('An http-latency window is at least 10ms.', () => {
    only(withProbe({ kind: 'http-latency', url: 'http://127.0.0.1:8080/', window: '5ms' }), 'steadyState.0.probe.window', 'window must be at least 10ms');
  });

  test('Fault options: a stop grace at most 5m, latencies and delays at most 10m, a toxic timeout at most 1h.', () => {
    only(withFault({ kind: 'docker-stop', timeout: '10m' }), 'method.0.fault.timeout', 'timeout must be at most 5m');
    const proxy = { kind: 'toxiproxy', api: 'http://127.0.0.1:8474', proxy: 'pg' };
    only(withFault({ kind: 'toxiproxy-latency', latency: '11m' }, proxy), 'method.0.fault.latency', 'latency must be at most 10m');
    only(withFault({ kind: 'toxiproxy-latency', latency: '1s', jitter: '11m' }, proxy), 'method.0.fault.jitter', 'jitter must be at most 10m');
    only(withFault({ kind: 'toxiproxy-timeout', timeout: '2h' }, proxy), 'method.0.fault.timeout', 'timeout must be at most 1h');
    only(withFault({ kind: 'http-delay', delay: '11m' }, { kind: 'http', url: 'http://127.0.0.1:18082' }), 'method.0.fault.delay', 'delay must be at most 10m');
  });

  test('A stage starts at most 24h into the stage it runs during.', () => {
    const scenario = {
      kind: 'scenario',
      id: 's',
      title: 's',
      hypothesis: 'h',
      stages: [
        { name: 'a', experiment: 'a' },
        { name: 'b', experiment: 'b', startDuring: { stage: 'a', delay: '25h' } },
      ],
    };
    assert.deepEqual(problemsOf(() => parseScenario(scenario, FILE)), [{ file: FILE, path: 'stages.1.startDuring.delay', message: 'delay must be at most 24h' }]);
  });

  test('A schedule runs at least once a year, with at most a day of jitter.', () => {
    const messages = (s: unknown) => scheduleSchema.safeParse(s).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.deepEqual(messages({ every: '400d' }), ['every: every must be at most 366d']);
    assert.deepEqual(messages({ cron: '0 2 * * *', jitter: '2d' }), ['jitter: jitter must be at most 24h']);
  });
});

describe('sampling rates', () => {
  test('A day of faults sampled every 10 ms validates: samples do not travel through the history.', () => {
    const doc = { ...base(), observe: { interval: '10ms', probes: [{ name: 'p', probe: { kind: 'http', url: 'http://127.0.0.1:8080/' } }] }, guardrails: [{ name: 'g', probe: { kind: 'http', url: 'http://127.0.0.1:8080/' }, abortWhen: { latencyMs: { atLeast: 5000 } }, interval: '10ms' }] };
    doc.method[0].duration = '24h';
    assert.deepEqual(problemsOf(() => parseExperiment(doc, FILE)), []);
  });

  test('An hour of faults probed every second fits; so does a day probed every 30s.', () => {
    const doc = { ...base(), observe: { probes: [{ name: 'p', probe: { kind: 'http', url: 'http://127.0.0.1:8080/' } }] } };
    doc.method[0].duration = '1h';
    assert.deepEqual(problemsOf(() => parseExperiment(doc, FILE)), []);
    doc.method[0].duration = '24h';
    assert.deepEqual(problemsOf(() => parseExperiment({ ...doc, observe: { ...doc.observe, interval: '30s' } }, FILE)), []);
  });
});

describe('a memory fill\'s path', () => {
  test('is an absolute path inside the container, without .. segments.', () => {
    only(withFault({ kind: 'docker-memory-fill', megabytes: 16, path: 'dev/shm' }), 'method.0.fault.path', 'expected an absolute path inside the container, such as /dev/shm');
    only(withFault({ kind: 'docker-memory-fill', megabytes: 16, path: '/dev/shm; rm -rf /' }), 'method.0.fault.path', 'expected an absolute path inside the container, such as /dev/shm');
    only(withFault({ kind: 'docker-memory-fill', megabytes: 16, path: '/scratch/../etc' }), 'method.0.fault.path', 'expected a path without .. segments');
  });
});

describe('count and list bounds', () => {
  test('maxTargets and pick.count are at most 100.', () => {
    const doc = base();
    doc.method[0].maxTargets = 101;
    only(doc, 'method.0.maxTargets', 'maxTargets must be at most 100');
    only({ ...base(), targets: { nats: { kind: 'docker', labels: { app: 'x' }, pick: { count: 101 } } } }, 'targets.nats.pick.count', 'count must be at most 100');
  });

  test('connections, megabytes and kbPerSecond have upper bounds saying why.', () => {
    const pg = { kind: 'postgres', connectionString: 'postgres://postgres@127.0.0.1:5432/app' };
    only(withFault({ kind: 'postgres-exhaust-connections', connections: 20_000 }, pg), 'method.0.fault.connections', 'connections must be at most 10000: each one held costs the worker some 185 KiB');
    only(withFault({ kind: 'docker-memory-stress', megabytes: 40_000 }), 'method.0.fault.megabytes', 'megabytes must be at most 32768 (32 GiB)');
    only(withFault({ kind: 'docker-memory-fill', megabytes: 0 }), 'method.0.fault.megabytes', 'megabytes must be at least 1');
    const proxy = { kind: 'toxiproxy', api: 'http://127.0.0.1:8474', proxy: 'pg' };
    only(withFault({ kind: 'toxiproxy-bandwidth', kbPerSecond: 1e8 }, proxy), 'method.0.fault.kbPerSecond', 'kbPerSecond must be at most 10000000');
  });

  test('Checks, faults, probes, guardrails and targets: at most 100 each, one line per list.', () => {
    const check = base().steadyState[0];
    only({ ...base(), steadyState: Array(101).fill(check) }, 'steadyState', 'at most 100 checks, not 101');
    const targets = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`t${i}`, { kind: 'docker', container: `c${i}` }]));
    only({ ...base(), targets: { ...targets, nats: { kind: 'docker', container: 'demo-nats' } } }, 'targets', 'at most 100 targets, not 102');
    const probe = { name: 'p', probe: { kind: 'http', url: 'http://127.0.0.1:8080/' } };
    only({ ...base(), observe: { probes: Array(150).fill(probe) } }, 'observe.probes', 'at most 100 probes, not 150');
  });

  test('A scenario has at most 100 stages.', () => {
    const stages = Array.from({ length: 101 }, (_, i) => ({ name: `s${i}`, experiment: 'x' }));
    assert.deepEqual(problemsOf(() => parseScenario({ kind: 'scenario', id: 's', title: 's', hypothesis: 'h', stages }, FILE)), [
      { file: FILE, path: 'stages', message: 'at most 100 stages, not 101' },
    ]);
  });
});

describe('document bounds', () => {
  const nested = (n: number): string => '{"id":' + '['.repeat(n) + ']'.repeat(n) + '}';

  test('A JSON file nested 100000 levels deep is one line naming the file and the depth, not a stack overflow.', () => {
    assert.deepEqual(problemsOf(() => parseDocument(nested(100_000), 'deep.json')), [
      { file: 'deep.json', path: '', message: 'line 1: nested more than 32 levels deep (objects and lists within each other); at most 32' },
    ]);
  });

  test('A YAML file nested by indentation deeper than its parser recurses is one line too.', () => {
    let text = 'id: x\nnest:\n';
    for (let i = 1; i <= 1000; i++) text += `${' '.repeat(i)}-\n`;
    assert.deepEqual(problemsOf(() => parseDocument(text, 'deep.yaml')), [{ file: 'deep.yaml', path: '', message: 'nested more than 32 levels deep (objects and lists within each other); at most 32' }]);
  });

  test('Nesting 33 levels is refused, under the field where it happens; 32 is accepted.', () => {
    const deep = (n: number): unknown => (n === 1 ? {} : { a: deep(n - 1) });
    assert.deepEqual(problemsOf(() => parseDocument(JSON.stringify(deep(32)), 'ok.json')), []);
    assert.deepEqual(problemsOf(() => parseExperiment({ ...base(), notes: deep(40) }, FILE)), [
      { file: FILE, path: '', message: 'nested more than 32 levels deep (objects and lists within each other); at most 32 (under notes.a.a…)' },
    ]);
  });

  test('Brackets inside quoted strings and comments do not count as nesting.', () => {
    const text = `id: x\npattern: "${'['.repeat(100)}"\n# ${'{'.repeat(100)}\n`;
    assert.deepEqual(parseDocument(text, 'ok.yaml'), { id: 'x', pattern: '['.repeat(100) });
  });

  test('YAML aliases that expand past 100 nodes (billion laughs) are one line.', () => {
    let text = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n';
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e']]) text += `${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]\n`;
    assert.deepEqual(problemsOf(() => parseDocument(text, 'laughs.yaml')), [
      { file: 'laughs.yaml', path: '', message: 'its YAML aliases expand to more than 100 nodes (a guard against alias bombs): write the values out' },
    ]);
  });

  test('A string longer than 64 KB names its field.', () => {
    only({ ...base(), hypothesis: 'h'.repeat(70_000) }, 'hypothesis', 'a string of 70000 characters; at most 65536 (64 KB)');
  });

  test('A list of thousands of entries is one line, not one per entry.', () => {
    assert.deepEqual(problemsOf(() => parseExperiment({ ...base(), steadyState: Array(5000).fill(1) }, FILE)), [{ file: FILE, path: 'steadyState', message: '5000 entries; at most 1000' }]);
  });

  describe('files', () => {
    let dir: string;
    before(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-limits-'))));
    after(() => rm(dir, { recursive: true, force: true }));

    test('A file over 1 MB is refused before it is read, naming its size.', async () => {
      const file = path.join(dir, 'big.yaml');
      await writeFile(file, `id: x\ndescription: ${'x'.repeat(2 * 1024 * 1024)}\n`);
      await assert.rejects(loadSpecFile(file), (e: unknown) => {
        assert.ok(e instanceof InvalidExperimentError);
        assert.deepEqual(e.problems, [{ file, path: '', message: 'the file is 2.0 MB; at most 1 MB' }]);
        return true;
      });
    });
  });
});
