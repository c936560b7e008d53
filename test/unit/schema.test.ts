/**
 * Every validation message the experiment schema produces, asserted with the field path it is
 * reported at, through parseExperiment (what `gameday validate` and the workflow use).
 *
 * Where zod would word a problem in its own terms (wrong types, missing fields, unknown kinds,
 * options, record keys), parseExperiment rewords it in plain words; those tests assert the exact
 * message a user sees, so that any change to it is deliberate. One case, an equals given an
 * object, still carries zod's bare "Invalid input"; its test asserts it as it is today.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { InvalidExperimentError, type SpecProblem } from '../../src/errors';
import { loadSpecFile, parseExperiment } from '../../src/spec/loader';

const FILE = 'exp.yaml';
const NATS_URL = 'nats://127.0.0.1:14222';

/** A plain document as YAML would parse it; tests mutate it freely, including into invalid shapes. */
type Doc = Record<string, any>;

/** A fresh copy of experiments/chaos-001-nats-broker-pause.yaml, as the object YAML parses it into. */
function validDoc(): Doc {
  return {
    id: 'chaos-001-nats-broker-pause',
    title: 'NATS broker paused while messages are published',
    description: 'The broker container is frozen with docker pause.\n',
    hypothesis: 'While the broker is paused, JetStream publishes fail fast.\n',
    blastRadius: 'the demo-nats container and its JetStream stream `tasks` only; nothing else is touched.',
    remediation: 'A publisher that retries a publish after a timeout must set a message id.\n',
    targets: {
      nats: { kind: 'docker', container: 'demo-nats' },
    },
    steadyState: [
      {
        name: 'stream tasks answers',
        probe: { kind: 'nats-stream', url: NATS_URL, stream: 'tasks', timeout: '2s' },
        expect: { latencyMs: { atMost: 1000 }, messages: { atLeast: 0 } },
      },
      {
        name: 'publishes are acknowledged',
        probe: { kind: 'nats-publish', url: NATS_URL, subject: 'tasks.probe', timeout: '1500ms' },
        expect: { error: { equals: '' }, latencyMs: { atMost: 1000 } },
      },
    ],
    method: [{ fault: { kind: 'docker-pause', target: 'nats' }, duration: '15s' }],
    observe: {
      interval: '1s',
      probes: [
        {
          name: 'publishes fail fast during the pause',
          probe: { kind: 'nats-publish', url: NATS_URL, subject: 'tasks.during-pause', timeout: '1500ms' },
          expect: { latencyMs: { atMost: 2500 } },
        },
        {
          name: 'stream depth',
          probe: { kind: 'nats-stream', url: NATS_URL, stream: 'tasks', timeout: '1500ms' },
        },
      ],
    },
    recovery: { within: '20s', interval: '1s' },
  };
}

/** The problems parseExperiment reports for a document it must reject. */
function problemsOf(doc: unknown): SpecProblem[] {
  try {
    parseExperiment(doc, FILE);
  } catch (e) {
    assert.ok(e instanceof InvalidExperimentError, `expected an InvalidExperimentError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected the document to be rejected, but it validated');
}

/** Asserts that the document is rejected with exactly this one problem. */
function assertOnlyProblem(doc: unknown, path: string, message: string): void {
  assert.deepEqual(problemsOf(doc), [{ file: FILE, path, message }]);
}

/** Problems in a stable order, for documents with several. */
function sorted(problems: SpecProblem[]): SpecProblem[] {
  return [...problems].sort((a, b) => (a.path + a.message).localeCompare(b.path + b.message));
}

const DURATION_TYPE = 'expected a duration such as "30s", "500ms" or "5m"';
const HYPOTHESIS = 'an experiment states its hypothesis before it runs';
const PROBE_KINDS = 'http, nats-stream, nats-consumer, nats-publish, postgres, docker-container, docker-logs, http-latency, command, websocket';
const UNKNOWN = 'unknown field (misspelt, or not part of this object)';
const FAULT_KINDS =
  'docker-pause, docker-stop, docker-kill, docker-restart, docker-disconnect, docker-packet-loss, docker-cpu-stress, docker-memory-stress, docker-exec, docker-memory-fill, postgres-terminate-backends, postgres-exhaust-connections, postgres-lock-table, toxiproxy-latency, toxiproxy-timeout, toxiproxy-reset, toxiproxy-bandwidth, process-pause, process-kill, http-error, http-delay, proxy-error, proxy-delay, proxy-drop, proxy-truncate';
const HTTP_URL = 'expected an http(s) URL such as http://127.0.0.1:8080/health';

describe('the experiment schema', () => {
  test('The base document, a copy of chaos-001, validates and keeps its values.', () => {
    const spec = parseExperiment(validDoc(), FILE);
    assert.equal(spec.id, 'chaos-001-nats-broker-pause');
    assert.deepEqual(spec.targets, { nats: { kind: 'docker', container: 'demo-nats' } });
    assert.equal(spec.method[0]?.duration, '15s');
    assert.equal(spec.steadyState.length, 2);
  });

  test('A document that is not an object is rejected at the root, saying an object was expected and what was given.', () => {
    assertOnlyProblem(null, '', 'expected an object, got null');
  });

  describe('top-level fields', () => {
    test('A misspelt top-level key such as hypotesis is rejected at its own path.', () => {
      const d = validDoc();
      d.hypotesis = d.hypothesis;
      assertOnlyProblem(d, 'hypotesis', UNKNOWN);
    });

    test('Two unknown keys in one object are reported as two problems, one for each key.', () => {
      const d = validDoc();
      d.hypotesis = 'typo';
      d.owner = 'sre';
      assert.deepEqual(
        sorted(problemsOf(d)),
        sorted([
          { file: FILE, path: 'hypotesis', message: UNKNOWN },
          { file: FILE, path: 'owner', message: UNKNOWN },
        ]),
      );
    });

    test('A missing hypothesis is reported at hypothesis.', () => {
      const d = validDoc();
      delete d.hypothesis;
      assertOnlyProblem(d, 'hypothesis', HYPOTHESIS);
    });

    test('An empty hypothesis is reported at hypothesis.', () => {
      const d = validDoc();
      d.hypothesis = '';
      assertOnlyProblem(d, 'hypothesis', HYPOTHESIS);
    });

    test('A hypothesis that is not a string is reported at hypothesis.', () => {
      const d = validDoc();
      d.hypothesis = 42;
      assertOnlyProblem(d, 'hypothesis', HYPOTHESIS);
    });

    test('An id with capitals or underscores is rejected with an example of a good id.', () => {
      const d = validDoc();
      d.id = 'Chaos_001';
      assertOnlyProblem(d, 'id', 'expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause');
    });

    test('An id starting with a dash is rejected.', () => {
      const d = validDoc();
      d.id = '-chaos';
      assertOnlyProblem(d, 'id', 'expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause');
    });

    test('An empty title is rejected as empty.', () => {
      const d = validDoc();
      d.title = '';
      assertOnlyProblem(d, 'title', 'must not be empty');
    });

    test('A missing title is reported as required.', () => {
      const d = validDoc();
      delete d.title;
      assertOnlyProblem(d, 'title', 'required');
    });

    test('Missing targets are reported as required.', () => {
      const d = validDoc();
      delete d.targets;
      assertOnlyProblem(d, 'targets', 'required');
    });

    test('An empty steadyState is rejected.', () => {
      const d = validDoc();
      d.steadyState = [];
      assertOnlyProblem(d, 'steadyState', 'define the steady state with at least one check');
    });

    test('A steadyState that is not a list is reported as expecting a list, naming what was given.', () => {
      const d = validDoc();
      d.steadyState = { name: 'one check' };
      assertOnlyProblem(d, 'steadyState', 'expected a list, got an object');
    });

    test('An empty method is rejected.', () => {
      const d = validDoc();
      d.method = [];
      assertOnlyProblem(d, 'method', 'the method needs at least one fault');
    });

    test('A misspelt key inside observe is rejected at its own path.', () => {
      const d = validDoc();
      d.observe.intervall = '1s';
      assertOnlyProblem(d, 'observe.intervall', UNKNOWN);
    });

    test('A recovery without within is reported as a missing duration at recovery.within.', () => {
      const d = validDoc();
      d.recovery = { interval: '1s' };
      assertOnlyProblem(d, 'recovery.within', DURATION_TYPE);
    });
  });

  describe('durations', () => {
    test('A duration written as "30 seconds" is rejected, quoting it and showing how to write one.', () => {
      const d = validDoc();
      d.method[0].duration = '30 seconds';
      assertOnlyProblem(d, 'method.0.duration', '"30 seconds" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"');
    });

    test('A duration without a unit is rejected.', () => {
      const d = validDoc();
      d.method[0].duration = '30';
      assertOnlyProblem(d, 'method.0.duration', '"30" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"');
    });

    test('A duration given as a number instead of a string is rejected with an example.', () => {
      const d = validDoc();
      d.method[0].duration = 30;
      assertOnlyProblem(d, 'method.0.duration', DURATION_TYPE);
    });

    test('A missing method step duration is rejected with an example.', () => {
      const d = validDoc();
      delete d.method[0].duration;
      assertOnlyProblem(d, 'method.0.duration', DURATION_TYPE);
    });

    test('A bad probe timeout is reported at the probe\'s timeout.', () => {
      const d = validDoc();
      d.steadyState[1].probe.timeout = '2 s';
      assertOnlyProblem(d, 'steadyState.1.probe.timeout', '"2 s" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"');
    });

    test('A bad observe interval is reported at observe.interval.', () => {
      const d = validDoc();
      d.observe.interval = 'often';
      assertOnlyProblem(d, 'observe.interval', '"often" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"');
    });
  });

  describe('targets', () => {
    test('A method step naming a target that does not exist is rejected, listing the targets there are.', () => {
      const d = validDoc();
      d.targets.db = { kind: 'docker', container: 'demo-postgres' };
      d.method[0].fault.target = 'nast';
      assertOnlyProblem(d, 'method.0.fault.target', "no target named 'nast' (targets: nats, db)");
    });

    test('A method step naming a target when there are none says there are none.', () => {
      const d = validDoc();
      d.targets = {};
      assertOnlyProblem(d, 'method.0.fault.target', "no target named 'nats' (targets: none)");
    });

    test('A target giving both a container and labels is rejected at the target.', () => {
      const d = validDoc();
      d.targets.nats.labels = { app: 'nats' };
      assertOnlyProblem(d, 'targets.nats', 'give exactly one of container, labels or compose');
    });

    test('A target giving neither a container nor labels is rejected at the target.', () => {
      const d = validDoc();
      d.targets.nats = { kind: 'docker' };
      assertOnlyProblem(d, 'targets.nats', 'give exactly one of container, labels or compose');
    });

    test('An empty label selector is rejected at its labels.', () => {
      const d = validDoc();
      d.targets.nats = { kind: 'docker', labels: {} };
      assertOnlyProblem(d, 'targets.nats.labels', 'a label selector needs at least one label');
    });

    test('A label value that is not a string is reported at that label, quoting the value given.', () => {
      const d = validDoc();
      d.targets.nats = { kind: 'docker', labels: { replica: 1 } };
      assertOnlyProblem(d, 'targets.nats.labels.replica', 'expected a string, got 1');
    });

    test('An empty container name is rejected as empty.', () => {
      const d = validDoc();
      d.targets.nats.container = '';
      assertOnlyProblem(d, 'targets.nats.container', 'must not be empty');
    });

    test('An unknown target kind is rejected, quoting it and listing the kinds there are.', () => {
      const d = validDoc();
      d.targets.nats.kind = 'kubernetes';
      assertOnlyProblem(d, 'targets.nats.kind', 'unknown kind "kubernetes": expected one of docker, postgres, toxiproxy, process, http, proxy');
    });

    test('A proxy target whose listen address has no port is rejected, saying the form it expects.', () => {
      const d = validDoc();
      d.targets.nats = { kind: 'proxy', upstream: 'http://127.0.0.1:18082', listen: '127.0.0.1', admin: 'http://127.0.0.1:18093' };
      d.method = [{ fault: { kind: 'proxy-error', target: 'nats', status: 503 }, duration: '5s' }];
      assertOnlyProblem(d, 'targets.nats.listen', 'expected host:port such as 127.0.0.1:18099');
    });

    test('A proxy fault with a method that is no HTTP method is rejected, listing the methods.', () => {
      const d = validDoc();
      d.targets.nats = { kind: 'proxy', upstream: 'http://127.0.0.1:18082', listen: '127.0.0.1:18099', admin: 'http://127.0.0.1:18093' };
      d.method = [{ fault: { kind: 'proxy-error', target: 'nats', status: 503, method: 'FETCH', path: '/score' }, duration: '5s' }];
      assertOnlyProblem(d, 'method.0.fault.method', 'expected a method or a list of them: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
    });

    test('A misspelt container key is reported as unknown, and the target as giving neither container nor labels.', () => {
      const d = validDoc();
      d.targets.nats = { kind: 'docker', contianer: 'demo-nats' };
      assert.deepEqual(
        sorted(problemsOf(d)),
        sorted([
          { file: FILE, path: 'targets.nats', message: 'give exactly one of container, labels or compose' },
          { file: FILE, path: 'targets.nats.contianer', message: UNKNOWN },
        ]),
      );
    });

    test('A target name with a space is rejected, quoting the name and saying which characters a name may use.', () => {
      const d = validDoc();
      d.targets = { 'the broker': { kind: 'docker', container: 'demo-nats' } };
      d.method[0].fault.target = 'the broker';
      assertOnlyProblem(d, 'targets.the broker', 'invalid name "the broker": use letters, digits, dashes and underscores');
    });
  });

  describe('probes', () => {
    test('An unknown probe kind is rejected, quoting it and listing the kinds there are.', () => {
      const d = validDoc();
      d.steadyState[0].probe.kind = 'redis';
      assertOnlyProblem(d, 'steadyState.0.probe.kind', `unknown kind "redis": expected one of ${PROBE_KINDS}`);
    });

    test('A misspelt probe kind such as htp is rejected, quoting it and listing the kinds there are.', () => {
      const d = validDoc();
      d.steadyState[0].probe.kind = 'htp';
      assertOnlyProblem(d, 'steadyState.0.probe.kind', `unknown kind "htp": expected one of ${PROBE_KINDS}`);
    });

    test('A probe without a kind is reported as required, listing the kinds there are.', () => {
      const d = validDoc();
      delete d.steadyState[0].probe.kind;
      assertOnlyProblem(d, 'steadyState.0.probe.kind', `required: one of ${PROBE_KINDS}`);
    });

    test('An http probe whose URL is not a URL is rejected with an example of one.', () => {
      const d = validDoc();
      d.steadyState[0] = { name: 'health', probe: { kind: 'http', url: 'not a url' }, expect: { status: { equals: 200 } } };
      assertOnlyProblem(d, 'steadyState.0.probe.url', HTTP_URL);
    });

    test('An http probe URL without a scheme is rejected with an example of one.', () => {
      const d = validDoc();
      d.steadyState[0] = { name: 'health', probe: { kind: 'http', url: '127.0.0.1:8080/health' }, expect: { status: { equals: 200 } } };
      assertOnlyProblem(d, 'steadyState.0.probe.url', HTTP_URL);
    });

    test('An http probe URL of the form localhost:8080/health is rejected, since it is not http or https.', () => {
      const d = validDoc();
      d.steadyState[0] = { name: 'health', probe: { kind: 'http', url: 'localhost:8080/health' }, expect: { status: { equals: 200 } } };
      assertOnlyProblem(d, 'steadyState.0.probe.url', HTTP_URL);
    });

    test('An http probe URL with another scheme, such as ftp:// or javascript:, is rejected; https:// is accepted.', () => {
      for (const url of ['ftp://127.0.0.1/health', 'javascript:alert(1)']) {
        const d = validDoc();
        d.steadyState[0] = { name: 'health', probe: { kind: 'http', url }, expect: { status: { equals: 200 } } };
        assertOnlyProblem(d, 'steadyState.0.probe.url', HTTP_URL);
      }
      const d = validDoc();
      d.steadyState[0] = { name: 'health', probe: { kind: 'http', url: 'https://example.com/health' }, expect: { status: { equals: 200 } } };
      assert.deepEqual(parseExperiment(d, FILE).steadyState[0]?.probe, { kind: 'http', url: 'https://example.com/health' });
    });

    test('An http method outside the list is rejected, quoting it and listing the methods there are.', () => {
      const d = validDoc();
      d.steadyState[0] = { name: 'health', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health', method: 'PATCH' }, expect: { status: { equals: 200 } } };
      assertOnlyProblem(d, 'steadyState.0.probe.method', '"PATCH" is not one of "GET", "HEAD", "POST", "PUT", "DELETE"');
    });

    test('A NATS probe whose URL is not a nats:// or tls:// URL is rejected with an example.', () => {
      const d = validDoc();
      d.steadyState[0].probe.url = 'http://127.0.0.1:4222';
      assertOnlyProblem(d, 'steadyState.0.probe.url', 'expected a NATS URL such as nats://127.0.0.1:4222');
    });

    test('A NATS URL is checked for every NATS probe kind, here a nats-publish probe in observe.', () => {
      const d = validDoc();
      d.observe.probes[0].probe.url = '127.0.0.1:4222';
      assertOnlyProblem(d, 'observe.probes.0.probe.url', 'expected a NATS URL such as nats://127.0.0.1:4222');
    });

    test('A tls:// NATS URL is accepted.', () => {
      const d = validDoc();
      d.steadyState[0].probe.url = 'tls://nats.example.com:4222';
      assert.deepEqual(parseExperiment(d, FILE).steadyState[0]?.probe, { kind: 'nats-stream', url: 'tls://nats.example.com:4222', stream: 'tasks', timeout: '2s' });
    });

    test('An empty stream name is rejected as empty.', () => {
      const d = validDoc();
      d.observe.probes[1].probe.stream = '';
      assertOnlyProblem(d, 'observe.probes.1.probe.stream', 'must not be empty');
    });

    test('A nats-publish connection mode outside the list is rejected, quoting it and listing the modes there are.', () => {
      const d = validDoc();
      d.steadyState[1].probe.connection = 'pooled';
      assertOnlyProblem(d, 'steadyState.1.probe.connection', '"pooled" is not one of "shared", "fresh"');
    });

    test('A postgres probe with a connection string of another database is rejected with an example.', () => {
      const d = validDoc();
      d.steadyState[0] = {
        name: 'database answers',
        probe: { kind: 'postgres', connectionString: 'mysql://root@127.0.0.1:3306/app', query: 'select 1' },
        expect: { value: { equals: 1 } },
      };
      assertOnlyProblem(d, 'steadyState.0.probe.connectionString', 'expected a connection string such as postgres://user@127.0.0.1:5432/db');
    });

    test('A misspelt key in a probe is rejected at its own path.', () => {
      const d = validDoc();
      d.steadyState[1].probe.subjet = 'tasks.probe';
      assertOnlyProblem(d, 'steadyState.1.probe.subjet', UNKNOWN);
    });
  });

  describe('docker-container, docker-logs, http-latency and websocket probes', () => {
    /** The document with its first steady-state check replaced by one on this probe. */
    function withProbe(probe: Doc, expect: Doc = { error: { equals: '' } }): Doc {
      const d = validDoc();
      d.steadyState[0] = { name: 'seen', probe, expect };
      return d;
    }
    const LATENCY = { kind: 'http-latency', url: 'http://127.0.0.1:8080/health' };
    const LOGS = { kind: 'docker-logs', container: 'demo-worker', pattern: 'ERROR' };

    test('Valid probes of each kind are accepted as written.', () => {
      for (const probe of [
        { kind: 'docker-container', container: 'demo-nats' },
        { ...LOGS, since: 'fault' },
        { ...LOGS, since: 'baseline' },
        { ...LOGS, since: '30s' },
        { ...LATENCY, method: 'HEAD', requests: 200, window: '1m', timeout: '500ms' },
      ]) {
        assert.deepEqual(parseExperiment(withProbe(probe), FILE).steadyState[0]?.probe, probe);
      }
    });

    test('A docker-container probe without a container is reported as required.', () => {
      assertOnlyProblem(withProbe({ kind: 'docker-container' }), 'steadyState.0.probe.container', 'required');
    });

    test('A docker-container probe with an empty container name is rejected.', () => {
      assertOnlyProblem(withProbe({ kind: 'docker-container', container: '' }), 'steadyState.0.probe.container', 'must not be empty');
    });

    test('An expectation on a field docker-container does not measure lists the fields it does.', () => {
      assertOnlyProblem(
        withProbe({ kind: 'docker-container', container: 'demo-nats' }, { restarts: { atMost: 0 } }),
        'steadyState.0.expect.restarts',
        "a docker-container probe does not measure 'restarts' (it measures: running, paused, status, health, restartCount, exitCode, oomKilled, latencyMs, error)",
      );
    });

    test('A docker-logs probe without a pattern is reported as required.', () => {
      assertOnlyProblem(withProbe({ kind: 'docker-logs', container: 'demo-worker' }), 'steadyState.0.probe.pattern', 'required');
    });

    test('A docker-logs pattern that is not a regular expression is rejected with the reason.', () => {
      assertOnlyProblem(withProbe({ ...LOGS, pattern: 'ERROR (' }), 'steadyState.0.probe.pattern', 'not a valid regular expression: /ERROR (/: Unterminated group');
    });

    test('A docker-logs since that is neither fault, baseline nor a duration is rejected, naming the three.', () => {
      const message = (shown: string): string =>
        `${shown} is not a start for the count: write 'fault' (default: since the first fault was injected), 'baseline' (since the experiment began) or a duration such as "30s" (the last 30 s)`;
      assertOnlyProblem(withProbe({ ...LOGS, since: 'yesterday' }), 'steadyState.0.probe.since', message('"yesterday"'));
      assertOnlyProblem(withProbe({ ...LOGS, since: 30 }), 'steadyState.0.probe.since', message('30'));
    });

    test('An expectation on a field docker-logs does not measure lists the fields it does.', () => {
      assertOnlyProblem(
        withProbe(LOGS, { count: { atMost: 0 } }),
        'steadyState.0.expect.count',
        "a docker-logs probe does not measure 'count' (it measures: matches, lines, lastMatch, countedSince, latencyMs, error)",
      );
    });

    test('An http-latency probe whose URL is not a URL is rejected with an example of one.', () => {
      assertOnlyProblem(withProbe({ ...LATENCY, url: '127.0.0.1:8080' }), 'steadyState.0.probe.url', HTTP_URL);
    });

    test('An http-latency probe with no requests is rejected.', () => {
      assertOnlyProblem(withProbe({ ...LATENCY, requests: 0 }), 'steadyState.0.probe.requests', 'requests must be at least 1');
    });

    test('An http-latency probe with more than 200 requests is rejected: one sample stays small.', () => {
      assertOnlyProblem(withProbe({ ...LATENCY, requests: 201 }), 'steadyState.0.probe.requests', 'requests must be at most 200: one sample stays small');
    });

    test('An http-latency probe with a fractional number of requests is rejected.', () => {
      assertOnlyProblem(withProbe({ ...LATENCY, requests: 2.5 }), 'steadyState.0.probe.requests', 'requests must be a whole number');
    });

    test('An http-latency window that is not a duration is rejected like any duration.', () => {
      assertOnlyProblem(withProbe({ ...LATENCY, window: '10 s' }), 'steadyState.0.probe.window', '"10 s" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"');
    });

    test('An http-latency window longer than a minute is rejected: a sample must end well within its activity timeout.', () => {
      assertOnlyProblem(withProbe({ ...LATENCY, window: '1.5m' }), 'steadyState.0.probe.window', 'window must be at most 1m');
    });

    test('An expectation on a percentile http-latency does not measure lists the fields it does.', () => {
      assertOnlyProblem(
        withProbe(LATENCY, { p90Ms: { atMost: 100 } }),
        'steadyState.0.expect.p90Ms',
        "an http-latency probe does not measure 'p90Ms' (it measures: p50Ms, p95Ms, p99Ms, maxMs, ok, errors, errorRate, latencyMs, error)",
      );
    });

    const WS = { kind: 'websocket', url: 'ws://127.0.0.1:18084/events' };

    test('A websocket probe with every field is accepted as written.', () => {
      const probe = { ...WS, window: '3s', sequence: 'seq', resume: 'since', connection: 'shared', timeout: '1s' };
      assert.deepEqual(parseExperiment(withProbe(probe, { missed: { equals: 0 }, messages: { atLeast: 1 } }), FILE).steadyState[0]?.probe, probe);
    });

    test('A websocket probe whose URL is http is rejected with an example of a ws URL.', () => {
      assertOnlyProblem(withProbe({ ...WS, url: 'http://127.0.0.1:18084/events' }), 'steadyState.0.probe.url', 'expected a WebSocket URL such as ws://127.0.0.1:8080/events');
    });

    test('A websocket window longer than a minute is rejected.', () => {
      assertOnlyProblem(withProbe({ ...WS, window: '2m' }), 'steadyState.0.probe.window', 'window must be at most 1m');
    });
  });

  describe('checks and expectations', () => {
    test('An expectation on a field the probe kind does not measure is rejected, listing the fields it measures.', () => {
      const d = validDoc();
      d.observe.probes[1] = {
        name: 'consumer backlog',
        probe: { kind: 'nats-consumer', url: NATS_URL, stream: 'tasks', consumer: 'workers' },
        expect: { pendng: { atMost: 100 } },
      };
      assertOnlyProblem(
        d,
        'observe.probes.1.expect.pendng',
        "a nats-consumer probe does not measure 'pendng' (it measures: pending, ackPending, redelivered, latencyMs, error)",
      );
    });

    test('An expectation on a field an http probe does not measure is rejected, listing status and body.', () => {
      const d = validDoc();
      d.steadyState[0] = { name: 'health', probe: { kind: 'http', url: 'http://127.0.0.1:8080/health' }, expect: { statusCode: { equals: 200 } } };
      assertOnlyProblem(d, 'steadyState.0.expect.statusCode', "an http probe does not measure 'statusCode' (it measures: status, body, latencyMs, error)");
    });

    test('A steady-state check with no expectation is rejected.', () => {
      const d = validDoc();
      d.steadyState[0].expect = {};
      assertOnlyProblem(d, 'steadyState.0.expect', 'a steady-state check needs at least one expectation');
    });

    test('A steady-state check without expect is reported as required.', () => {
      const d = validDoc();
      delete d.steadyState[0].expect;
      assertOnlyProblem(d, 'steadyState.0.expect', 'required');
    });

    test('A check without a name is reported as required.', () => {
      const d = validDoc();
      delete d.steadyState[0].name;
      assertOnlyProblem(d, 'steadyState.0.name', 'required');
    });

    test('An observe samples mode outside the list is rejected, quoting it and listing the modes there are.', () => {
      const d = validDoc();
      d.observe.probes[0].samples = 'most';
      assertOnlyProblem(d, 'observe.probes.0.samples', '"most" is not one of "all", "any"');
    });
  });

  describe('tolerances', () => {
    test('A tolerance with no keys is rejected, listing the keys it may have.', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = {};
      assertOnlyProblem(d, 'steadyState.0.expect.latencyMs', 'give at least one of equals, atMost, atLeast, between, regex');
    });

    test('A between whose minimum is greater than its maximum is rejected at between.', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = { between: [1000, 10] };
      assertOnlyProblem(d, 'steadyState.0.expect.latencyMs.between', 'between: 1000 is greater than 10');
    });

    test('A between with equal bounds is accepted.', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = { between: [5, 5] };
      assert.deepEqual(parseExperiment(d, FILE).steadyState[0]?.expect.latencyMs, { between: [5, 5] });
    });

    test('A between with one number is rejected, saying it takes two: [min, max].', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = { between: [10] };
      assertOnlyProblem(d, 'steadyState.0.expect.latencyMs.between', 'between takes two numbers: [min, max]');
    });

    test('A between with three numbers is rejected, saying it takes two: [min, max].', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = { between: [1, 2, 3] };
      assertOnlyProblem(d, 'steadyState.0.expect.latencyMs.between', 'between takes two numbers: [min, max]');
    });

    test('An atLeast greater than atMost is rejected at the tolerance.', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = { atLeast: 500, atMost: 100 };
      assertOnlyProblem(d, 'steadyState.0.expect.latencyMs', 'atLeast 500 is greater than atMost 100');
    });

    test('An invalid regular expression is rejected at regex with the engine\'s reason.', () => {
      const d = validDoc();
      d.steadyState[1].expect.error = { regex: '(' };
      assertOnlyProblem(d, 'steadyState.1.expect.error.regex', 'not a valid regular expression: /(/: Unterminated group');
    });

    test('An atMost given as a string is rejected as expecting a number, quoting the string given.', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = { atMost: '1000' };
      assertOnlyProblem(d, 'steadyState.0.expect.latencyMs.atMost', 'expected a number, got "1000"');
    });

    test('An equals given an object is rejected with zod\'s bare "Invalid input".', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = { equals: { value: 1 } };
      assertOnlyProblem(d, 'steadyState.0.expect.latencyMs.equals', 'Invalid input');
    });

    test('A tolerance written as a bare number is rejected, showing how to write it as an object.', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = 1000;
      assertOnlyProblem(d, 'steadyState.0.expect.latencyMs', 'a tolerance is an object, not 1000: write { equals: 1000 } or { atMost: 1000 }');
    });

    test('A misspelt tolerance key is reported as unrecognized and, having no known key, as empty.', () => {
      const d = validDoc();
      d.steadyState[0].expect.latencyMs = { atmost: 1000 };
      assert.deepEqual(
        sorted(problemsOf(d)),
        sorted([
          { file: FILE, path: 'steadyState.0.expect.latencyMs.atmost', message: UNKNOWN },
          { file: FILE, path: 'steadyState.0.expect.latencyMs', message: 'give at least one of equals, atMost, atLeast, between, regex' },
        ]),
      );
    });
  });

  describe('faults', () => {
    test('A fault on a target of another kind is rejected, naming the kind the fault needs.', () => {
      const d = validDoc();
      d.targets.db = { kind: 'postgres', connectionString: 'postgres://postgres@127.0.0.1:15432/app' };
      d.method[0].fault = { kind: 'docker-pause', target: 'db' };
      assertOnlyProblem(d, 'method.0.fault.target', "a docker-pause fault needs a docker target; 'db' is a postgres target");
    });

    test('A toxiproxy target without a proxy name is reported as required.', () => {
      const d = validDoc();
      d.targets.proxy = { kind: 'toxiproxy', api: 'http://127.0.0.1:18474' };
      assertOnlyProblem(d, 'targets.proxy.proxy', 'required');
    });

    test('A process target whose pattern is not a regular expression is rejected.', () => {
      const d = validDoc();
      d.targets.worker = { kind: 'process', pattern: 'node (worker' };
      assertOnlyProblem(d, 'targets.worker.pattern', 'not a valid regular expression');
    });

    test('A postgres target with a connection string of another scheme is rejected with an example.', () => {
      const d = validDoc();
      d.targets.db = { kind: 'postgres', connectionString: 'mysql://127.0.0.1/app' };
      assertOnlyProblem(d, 'targets.db.connectionString', 'expected a connection string such as postgres://postgres@127.0.0.1:5432/app');
    });

    test('A packet-loss share above 100 percent is rejected.', () => {
      const d = validDoc();
      d.method[0].fault = { kind: 'docker-packet-loss', target: 'nats', percent: 150 };
      assertOnlyProblem(d, 'method.0.fault.percent', 'must be at most 100');
    });

    test('An http-error status that is not an error status is rejected.', () => {
      const d = validDoc();
      d.targets.scoring = { kind: 'http', url: 'http://127.0.0.1:18082' };
      d.method[0].fault = { kind: 'http-error', target: 'scoring', status: 200 };
      assert.equal(problemsOf(d)[0].path, 'method.0.fault.status');
    });

    test('A table name that is not an identifier is rejected with examples.', () => {
      const d = validDoc();
      d.targets.db = { kind: 'postgres', connectionString: 'postgres://postgres@127.0.0.1:15432/app' };
      d.method[0].fault = { kind: 'postgres-lock-table', target: 'db', table: 'messages; DROP TABLE x' };
      assertOnlyProblem(d, 'method.0.fault.table', 'expected a table name such as messages or public.messages');
    });

    test('An unknown fault kind is rejected, quoting it and listing the kinds there are.', () => {
      const d = validDoc();
      d.method[0].fault.kind = 'docker-freeze';
      assertOnlyProblem(d, 'method.0.fault.kind', `unknown kind "docker-freeze": expected one of ${FAULT_KINDS}`);
    });

    test('A fault without a kind is reported as required, listing the kinds there are.', () => {
      const d = validDoc();
      delete d.method[0].fault.kind;
      assertOnlyProblem(d, 'method.0.fault.kind', `required: one of ${FAULT_KINDS}`);
    });

    test('An unknown key inside a fault is rejected, since faults are strict objects.', () => {
      const d = validDoc();
      d.method[0].fault.signal = 'SIGKILL';
      assertOnlyProblem(d, 'method.0.fault.signal', UNKNOWN);
    });

    test('An unknown key in a method step is rejected at its own path.', () => {
      const d = validDoc();
      d.method[0].repeat = 2;
      assertOnlyProblem(d, 'method.0.repeat', UNKNOWN);
    });

    test('A fault without a target is reported as required.', () => {
      const d = validDoc();
      delete d.method[0].fault.target;
      assertOnlyProblem(d, 'method.0.fault.target', 'required');
    });

    test('An empty fault target is reported once, as empty, not also as naming no target.', () => {
      const d = validDoc();
      d.method[0].fault.target = '';
      assertOnlyProblem(d, 'method.0.fault.target', 'must not be empty');
    });

    test('A docker-kill signal that is not a signal name is rejected with examples.', () => {
      const d = validDoc();
      d.method[0].fault = { kind: 'docker-kill', target: 'nats', signal: 'kill -9' };
      assertOnlyProblem(d, 'method.0.fault.signal', 'expected a signal name such as SIGKILL or SIGTERM');
    });

    test('A docker-stop timeout that is not a duration is rejected at its timeout.', () => {
      const d = validDoc();
      d.method[0].fault = { kind: 'docker-stop', target: 'nats', timeout: 10 };
      assertOnlyProblem(d, 'method.0.fault.timeout', DURATION_TYPE);
    });

    test('Every fault kind with its own options validates.', () => {
      const d = validDoc();
      d.method = [
        { fault: { kind: 'docker-pause', target: 'nats' }, duration: '1s' },
        { fault: { kind: 'docker-stop', target: 'nats', timeout: '5s' }, duration: '1s' },
        { fault: { kind: 'docker-kill', target: 'nats', signal: 'SIGTERM' }, duration: '1s' },
        { fault: { kind: 'docker-restart', target: 'nats', timeout: '2s' }, duration: '1s' },
      ];
      d.targets.db = { kind: 'postgres', connectionString: 'postgres://postgres@127.0.0.1:15432/app' };
      d.targets.proxy = { kind: 'toxiproxy', api: 'http://127.0.0.1:18474', proxy: 'nats' };
      d.targets.worker = { kind: 'process', pattern: 'node .*worker' };
      d.targets.scoring = { kind: 'http', url: 'http://127.0.0.1:18082' };
      d.method.push(
        { fault: { kind: 'docker-disconnect', target: 'nats', network: 'demo' }, duration: '1s' },
        { fault: { kind: 'docker-packet-loss', target: 'nats', percent: 30, port: 4222 }, duration: '1s' },
        { fault: { kind: 'docker-cpu-stress', target: 'nats', workers: 2 }, duration: '1s' },
        { fault: { kind: 'docker-memory-stress', target: 'nats', megabytes: 64 }, duration: '1s' },
        { fault: { kind: 'docker-exec', target: 'nats', command: 'touch /tmp/marker', revert: ['rm', '-f', '/tmp/marker'], timeout: '5s' }, duration: '1s' },
        { fault: { kind: 'docker-memory-fill', target: 'nats', megabytes: 64, path: '/scratch' }, duration: '1s' },
        { fault: { kind: 'postgres-terminate-backends', target: 'db', database: 'app' }, duration: '1s' },
        { fault: { kind: 'postgres-exhaust-connections', target: 'db', connections: 5 }, duration: '1s' },
        { fault: { kind: 'postgres-lock-table', target: 'db', table: 'messages', mode: 'SHARE' }, duration: '1s' },
        { fault: { kind: 'toxiproxy-latency', target: 'proxy', latency: '2s', jitter: '100ms', direction: 'upstream', percent: 50 }, duration: '1s' },
        { fault: { kind: 'toxiproxy-timeout', target: 'proxy', timeout: '0s' }, duration: '1s' },
        { fault: { kind: 'toxiproxy-reset', target: 'proxy' }, duration: '1s' },
        { fault: { kind: 'toxiproxy-bandwidth', target: 'proxy', kbPerSecond: 10 }, duration: '1s' },
        { fault: { kind: 'process-pause', target: 'worker' }, duration: '1s' },
        { fault: { kind: 'process-kill', target: 'worker', signal: 'SIGTERM', restart: 'node worker.js' }, duration: '1s' },
        { fault: { kind: 'http-error', target: 'scoring', status: 503, percent: 50 }, duration: '1s' },
        { fault: { kind: 'http-delay', target: 'scoring', delay: '6s' }, duration: '1s' },
        { fault: { kind: 'proxy-error', target: 'front', status: 503, retryAfter: '5s', method: 'POST', path: '/score', percent: 50 }, duration: '1s' },
        { fault: { kind: 'proxy-delay', target: 'front', delay: '2s', method: ['GET', 'POST'], path: '/v1/*/score' }, duration: '1s' },
        { fault: { kind: 'proxy-drop', target: 'front', percent: 10 }, duration: '1s' },
        { fault: { kind: 'proxy-truncate', target: 'front', bytes: 10 }, duration: '1s' },
      );
      d.targets.front = { kind: 'proxy', upstream: 'http://127.0.0.1:18082', listen: '127.0.0.1:18099', admin: 'http://127.0.0.1:18098' };
      assert.deepEqual(parseExperiment(d, FILE).method.map((s) => s.fault.kind), FAULT_KINDS.split(', '));
    });
  });

  describe('several problems', () => {
    test('Several problems in one document are all reported at once, each at its own path.', () => {
      const d = validDoc();
      d.hypotesis = 'typo';
      d.id = 'BAD ID';
      d.method[0].duration = '30 seconds';
      d.targets.nats.labels = { app: 'nats' };
      d.steadyState[0].expect.latencyMs = { between: [10, 1] };
      d.observe.probes[0].probe.url = 'http://127.0.0.1:4222';
      assert.deepEqual(
        sorted(problemsOf(d)),
        sorted([
          { file: FILE, path: 'hypotesis', message: UNKNOWN },
          { file: FILE, path: 'id', message: 'expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause' },
          { file: FILE, path: 'method.0.duration', message: '"30 seconds" is not a duration: write a number and a unit (ms, s, m, h), e.g. "30s"' },
          { file: FILE, path: 'targets.nats', message: 'give exactly one of container, labels or compose' },
          { file: FILE, path: 'steadyState.0.expect.latencyMs.between', message: 'between: 10 is greater than 1' },
          { file: FILE, path: 'observe.probes.0.probe.url', message: 'expected a NATS URL such as nats://127.0.0.1:4222' },
        ]),
      );
    });

    test('A missing target is reported alongside problems elsewhere in the document.', () => {
      const d = validDoc();
      d.id = 'BAD ID';
      d.method[0].fault.target = 'db';
      assert.deepEqual(
        sorted(problemsOf(d)),
        sorted([
          { file: FILE, path: 'id', message: 'expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause' },
          { file: FILE, path: 'method.0.fault.target', message: "no target named 'db' (targets: nats)" },
        ]),
      );
    });

    test('The error message lists every problem as file: path: message, one a line.', () => {
      const d = validDoc();
      d.hypotesis = 'typo';
      d.id = 'BAD ID';
      let message = '';
      try {
        parseExperiment(d, FILE);
      } catch (e) {
        message = (e as Error).message;
      }
      assert.deepEqual(message.split('\n').sort(), [
        'exp.yaml: hypotesis: unknown field (misspelt, or not part of this object)',
        'exp.yaml: id: expected lower-case letters, digits and dashes, e.g. chaos-001-nats-broker-pause',
      ]);
    });
  });

  describe('the catalog', () => {
    const dir = path.resolve(__dirname, '../../../experiments');

    test('Every file in experiments/ validates as an experiment or a scenario, and its id is its file name.', async () => {
      const files = (await readdir(dir)).filter((f) => ['.yaml', '.yml', '.json'].includes(path.extname(f)));
      assert.ok(files.length > 0, `no experiment files found in ${dir}`);
      for (const f of files) {
        const { spec } = await loadSpecFile(path.join(dir, f));
        assert.equal(spec.id, path.basename(f, path.extname(f)), `${f}: the id should be the file name`);
      }
    });
  });
});
