/**
 * Notifications without a network: the validation messages of the experiment file's `notify`
 * and of the worker's GAMEDAY_NOTIFY_* variables, who is told of what by default, the masked
 * URL, and the two formats' bodies.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config';
import { GamedayError, type SpecProblem } from '../../src/errors';
import { renderNotice, type Notice } from '../../src/notify/message';
import { deliveriesFor, ruleOf } from '../../src/notify/rules';
import { maskUrl, resolveWebhookUrl } from '../../src/notify/send';
import { writeReport } from '../../src/report/write';
import { parseExperiment, planExperiment } from '../../src/spec/loader';
import { experimentProblems, minimalExperiment } from '../spec-fixtures';

const FILE = 'exp.yaml';
const SLACK = 'https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX';

function doc(notify: unknown): Record<string, unknown> {
  return minimalExperiment({ id: 'notify-me', title: 'told when it fails', notify });
}

const problemsOf = (d: unknown): SpecProblem[] => experimentProblems(d, FILE);

function configProblem(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof GamedayError && e.type === 'InvalidConfig', String(e));
    return e.message;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('the notify field of an experiment file', () => {
  test('A webhook given as a secret reference validates and keeps the reference, not a value.', () => {
    const spec = parseExperiment(doc([{ url: '${env:SLACK_HOOK}', format: 'slack', on: ['passed', 'rollbackFailing'], triggers: ['cli'] }]), FILE);
    assert.deepEqual(spec.notify, [{ url: '${env:SLACK_HOOK}', format: 'slack', on: ['passed', 'rollbackFailing'], triggers: ['cli'] }]);
  });

  test('A URL that is neither http(s) nor a ${env:NAME} reference is rejected at notify.<i>.url.', () => {
    assert.deepEqual(problemsOf(doc([{ url: 'ftp://example.com/hook' }])), [{ file: FILE, path: 'notify.0.url', message: 'expected an http(s) URL or a secret reference such as ${env:SLACK_WEBHOOK_URL}' }]);
  });

  test('An unknown event, format or trigger is named at its own path with the words allowed.', () => {
    const problems = problemsOf(doc([{ url: SLACK, format: 'teams', on: ['failed', 'sometimes'], triggers: ['cron'] }]));
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    assert.match(byPath['notify.0.format'], /slack.*json/);
    assert.match(byPath['notify.0.on.1'], /passed, failed, error, aborted, not-run, skipped, rollbackFailing/);
    assert.match(byPath['notify.0.triggers.0'], /schedule, cli, web-ui/);
    assert.equal(problems.length, 3);
  });

  test('An empty `on` says to name an event or leave it out; a misspelt key is an unknown field.', () => {
    const problems = problemsOf(doc([{ url: SLACK, on: [], formt: 'slack' }]));
    assert.deepEqual(problems.map((p) => p.path).sort(), ['notify.0.formt', 'notify.0.on']);
    assert.match(problems.find((p) => p.path === 'notify.0.on')!.message, /name at least one event, or leave out `on` for the default/);
  });
});

describe("the worker's GAMEDAY_NOTIFY_* variables", () => {
  test('Unset, the worker notifies no one; set, it notifies with the defaults: failed, error, aborted of scheduled runs, and a failing rollback.', () => {
    assert.equal(loadConfig({}).notify, undefined);
    assert.deepEqual(loadConfig({ GAMEDAY_NOTIFY_URL: SLACK, GAMEDAY_NOTIFY_FORMAT: 'slack' }).notify, { url: SLACK, format: 'slack', on: ['failed', 'error', 'aborted', 'rollbackFailing'], triggers: ['schedule'] });
    assert.deepEqual(loadConfig({ GAMEDAY_NOTIFY_URL: SLACK, GAMEDAY_NOTIFY_ON: 'passed, failed', GAMEDAY_NOTIFY_TRIGGERS: 'cli,web-ui' }).notify?.on, ['passed', 'failed']);
  });

  test('Every problem is named by its variable at once, and the rejected URL is not repeated in the message.', () => {
    const message = configProblem({ GAMEDAY_NOTIFY_URL: 'hooks.slack.com/services/T/B/SECRET', GAMEDAY_NOTIFY_FORMAT: 'xml', GAMEDAY_NOTIFY_ON: 'failed,sometimes,never', GAMEDAY_NOTIFY_TRIGGERS: ' , ' });
    assert.match(message, /GAMEDAY_NOTIFY_URL: expected an http\(s\) URL/);
    assert.match(message, /GAMEDAY_NOTIFY_FORMAT: expected slack or json/);
    assert.match(message, /GAMEDAY_NOTIFY_ON: 'sometimes', 'never' not one of passed, failed/);
    assert.match(message, /GAMEDAY_NOTIFY_TRIGGERS: name at least one of schedule, cli, web-ui/);
    assert.doesNotMatch(message, /SECRET/);
  });

  test('GAMEDAY_UI_URL sets where links point; by default the local Web UI on GAMEDAY_UI_PORT.', () => {
    assert.equal(loadConfig({}).uiUrl, 'http://127.0.0.1:8233');
    assert.equal(loadConfig({ GAMEDAY_UI_PORT: '8080' }).uiUrl, 'http://127.0.0.1:8080');
    assert.match(configProblem({ GAMEDAY_UI_URL: 'temporal.example.com' }), /GAMEDAY_UI_URL: expected the Temporal Web UI's address/);
  });
});

describe('who is told of what', () => {
  const worker = ruleOf({ url: SLACK });
  test('By default a failed scheduled run is told, a failed run from the CLI or the Web UI is not, a passed one never.', () => {
    assert.deepEqual(deliveriesFor({ worker, event: 'failed', trigger: 'schedule' }), [{ to: 'worker' }]);
    assert.deepEqual(deliveriesFor({ worker, event: 'failed', trigger: 'cli' }), []);
    assert.deepEqual(deliveriesFor({ worker, event: 'aborted', trigger: 'web-ui' }), []);
    assert.deepEqual(deliveriesFor({ worker, event: 'passed', trigger: 'schedule' }), []);
  });

  test('A failing rollback is told whatever started the run; the experiment file’s webhooks come first, with their URL as written.', () => {
    const specs = [{ url: '${env:TEAM_HOOK}', format: 'slack' as const }, { url: 'http://127.0.0.1:1/x', on: ['passed' as const] }];
    assert.deepEqual(deliveriesFor({ specs, worker, event: 'rollbackFailing', trigger: 'cli' }), [{ to: 'experiment', index: 0, url: '${env:TEAM_HOOK}', format: 'slack' }, { to: 'worker' }]);
    assert.deepEqual(deliveriesFor({ specs, event: 'passed', trigger: 'schedule' }), [{ to: 'experiment', index: 1, url: 'http://127.0.0.1:1/x', format: 'json' }]);
  });
});

describe('what a notification shows', () => {
  const notice: Notice = { event: 'failed', experimentId: 'notify-me', title: 'told when it fails', workflowId: 'notify-me-1', runId: 'r1', trigger: 'schedule', reason: 'steady state not restored', reportDir: '/srv/reports/notify-me-1', rollback: 'complete', at: '2026-12-01T00:00:00.000Z' };
  const ui = { uiUrl: 'http://127.0.0.1:8233/', namespace: 'default' };

  test('A Slack hook URL is shown without its path; a URL with a password or a query without them.', () => {
    assert.equal(maskUrl(SLACK), 'https://hooks.slack.com/***');
    assert.equal(maskUrl('https://user:pw@example.com/?token=1'), 'https://example.com/***');
    assert.equal(maskUrl('http://127.0.0.1:9000/'), 'http://127.0.0.1:9000/');
  });

  test('A ${env:NAME} URL is read from the environment; a missing variable is named.', () => {
    assert.equal(resolveWebhookUrl('${env:HOOK}', { HOOK: SLACK }), SLACK);
    assert.throws(() => resolveWebhookUrl('${env:HOOK}', {}), /notify: environment variable HOOK is not set on the worker/);
  });

  test('The Slack body has the verdict and title in its text, and the run link, workflow id and report path in its blocks.', () => {
    const body = renderNotice(notice, 'slack', ui);
    assert.equal(body.text, 'Experiment failed: told when it fails (notify-me-1)');
    const blocks = JSON.stringify(body.blocks);
    assert.ok(blocks.includes('<http://127.0.0.1:8233/namespaces/default/workflows/notify-me-1|notify-me-1>'), blocks);
    assert.ok(blocks.includes('/srv/reports/notify-me-1/report.md'), blocks);
    assert.ok(blocks.includes('steady state not restored'), blocks);
  });

  test('The JSON body is the documented object: kind, version, the notice, the run link and the report path.', () => {
    assert.deepEqual(renderNotice(notice, 'json', ui), {
      kind: 'gameday.notification',
      version: 1,
      ...notice,
      temporalUrl: 'http://127.0.0.1:8233/namespaces/default/workflows/notify-me-1',
      reportPath: '/srv/reports/notify-me-1/report.md',
    });
  });
});

describe('the report', () => {
  test("journal.json shows an experiment's webhook URL masked, and a ${env:NAME} reference as written", async () => {
    const spec = parseExperiment(doc([{ url: SLACK }, { url: '${env:TEAM_HOOK}' }]), FILE);
    const plan = planExperiment(spec, FILE);
    const journal = { workflowId: 'masked', runId: 'r', experimentId: spec.id, title: spec.title, hypothesis: spec.hypothesis, source: FILE, startedAt: '2026-12-01T00:00:00Z', finishedAt: '2026-12-01T00:00:01Z', verdict: 'passed' as const, reason: '', plan, targets: [], baseline: [], observations: [], verification: [], hypothesisVsReality: [], rollback: { status: 'nothing-injected' as const, faults: [] }, guardrails: [], events: [] };
    const dir = await writeReport(await mkdtemp(path.join(os.tmpdir(), 'h-ntf-report-')), journal);
    const written = await readFile(path.join(dir, 'journal.json'), 'utf8');
    assert.ok(!written.includes('XXXXSECRETXXXX'), 'the hook path is not in the report');
    assert.deepEqual((JSON.parse(written) as { plan: { spec: { notify: { url: string }[] } } }).plan.spec.notify.map((n) => n.url), ['https://hooks.slack.com/***', '${env:TEAM_HOOK}']);
  });
});
