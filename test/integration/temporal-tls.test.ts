/**
 * Gameday on a cluster that asks for mutual TLS: a TLS terminator (test/tls-terminator.ts) in
 * front of the real dev server stands in for a secured cluster's frontend. A `gameday worker`
 * and the CLI, processes of their own, connect through it with Temporal's own settings: the
 * TEMPORAL_TLS_* variables, or a temporal.toml profile chosen by TEMPORAL_PROFILE. A gRPC gateway
 * over TLS that lets through only calls bearing one API key stands in for an API-key cluster.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import type { Experiment } from '../../src/spec/schema';
import type { ExperimentResult } from '../../src/types';
import { gameday, killSpawnedWorkers, spawnWorker, type WorkerProcess } from '../helpers';
import { makeTestPki, startApiKeyGateway, startTlsTerminator, type ApiKeyGateway, type TestPki, type TlsTerminator } from '../tls-terminator';

const RUN = `envconfig-${process.pid}`;
const API_KEY = `gameday-test-key-${process.pid}-never-printed`;

describe('connecting to a secured cluster: mutual TLS through a TLS terminator, an API key through a gateway, both in front of the dev server', () => {
  let pki: TestPki;
  let proxy: TlsTerminator;
  let gateway: ApiKeyGateway;
  let worker: WorkerProcess;
  let target: ChildProcess;
  let toml: string;
  let tlsEnv: Record<string, string>;
  let profileEnv: Record<string, string>;
  const taskQueue = `test-${RUN}`;

  before(async () => {
    pki = await makeTestPki();
    proxy = await startTlsTerminator(pki);
    gateway = await startApiKeyGateway(pki, API_KEY);
    toml = path.join(pki.dir, 'temporal.toml');
    await writeFile(
      toml,
      [
        '[profile.secured]',
        `address = "${proxy.address}"`,
        'namespace = "default"',
        '[profile.secured.tls]',
        `client_cert_path = "${pki.clientCert}"`,
        `client_key_path = "${pki.clientKey}"`,
        `server_ca_cert_path = "${pki.caCert}"`,
        '',
        '[profile.nocert]',
        `address = "${proxy.address}"`,
        '[profile.nocert.tls]',
        `server_ca_cert_path = "${pki.caCert}"`,
      ].join('\n'),
    );
    const common = { GAMEDAY_TASK_QUEUE: taskQueue, GAMEDAY_REPORTS_DIR: pki.dir, GAMEDAY_EXPERIMENTS_DIR: pki.dir};
    tlsEnv = { ...common, TEMPORAL_ADDRESS: proxy.address, TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert };
    profileEnv = { ...common, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'secured' };
    // The worker connects through the profile, its Client and its NativeConnection alike.
    worker = await spawnWorker(taskQueue, profileEnv);
    const script = path.join(pki.dir, `server-${RUN}.js`);
    await writeFile(script, "require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port); });\n");
    target = spawn(process.execPath, [script], { env: { ...process.env, GAMEDAY_ENABLED: 'true' }, stdio: ['ignore', 'pipe', 'ignore'] });
    const port = await new Promise<number>((resolve) => target.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const health = { kind: 'http', url: `http://127.0.0.1:${port}/`, timeout: '500ms' } as const;
    const spec: Experiment = {
      id: 'envconfig-tls',
      title: 'HTTP server frozen, run through mutual TLS',
      hypothesis: 'the server answers again once it resumes',
      targets: { server: { kind: 'process', pattern: `server-${RUN}\\.js` } },
      steadyState: [{ name: 'server answers', probe: health, expect: { status: { equals: 200 } } }],
      method: [{ fault: { kind: 'process-pause', target: 'server' }, duration: '1s' }],
      recovery: { within: '15s', interval: '500ms' },
    };
    await writeFile(path.join(pki.dir, 'envconfig-tls.yaml'), YAML.stringify(spec));
  });
  after(async () => {
    killSpawnedWorkers();
    target?.kill('SIGKILL');
    await proxy?.close();
    await gateway?.close();
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  let workflowId: string;

  test('with TEMPORAL_ADDRESS and TEMPORAL_TLS_CLIENT_CERT_PATH / KEY_PATH / SERVER_CA_CERT_PATH, run --wait completes on the worker behind TLS', async () => {
    const run = await gameday(['run', path.join(pki.dir, 'envconfig-tls.yaml'), '--wait', '--json'], tlsEnv);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal(result.rollback, 'complete');
    workflowId = result.workflowId;
    assert.ok(!run.stderr.includes('DEP0123'), run.stderr);
  });

  test('the same through the temporal.toml profile TEMPORAL_PROFILE names (TEMPORAL_CONFIG_FILE): status reads the run', async () => {
    const status = await gameday(['status', workflowId, '--json'], profileEnv);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { stage: string }).stage, 'done');
    assert.equal(proxy.refusals.length, 0, proxy.refusals.join('; '));
  });

  test('without the client certificate the CLI exits 1 with one line: the server refused the TLS handshake, set TEMPORAL_TLS_CLIENT_CERT_PATH', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noCert } = tlsEnv;
    const run = await gameday(['status', workflowId], noCert);
    assert.equal(run.code, 1);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], new RegExp(`^gameday: the Temporal server at ${proxy.address} refused the TLS handshake \\(.*certificate required\\): it asks for a client certificate and none was set; set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH to a certificate it trusts$`));
    // The refusal is the terminator's: it asked for a certificate and got none.
    assert.ok(proxy.refusals.some((r) => /peer did not return a certificate/.test(r)), proxy.refusals.join('; '));
  });

  test('through a profile without a certificate, the line names the profile fields to set; a worker stops with the same line', async () => {
    const env = { ...profileEnv, TEMPORAL_PROFILE: 'nocert' };
    const run = await gameday(['status', workflowId], env);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`refused the TLS handshake .*; set tls.client_cert_path and tls.client_key_path in profile 'nocert' of ${toml} to a certificate it trusts`));
    const w = await gameday(['worker'], env);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /^gameday: the Temporal server at .* refused the TLS handshake/);
  });

  test('a client certificate path that does not exist is named with its variable', async () => {
    const missing = path.join(pki.dir, 'no-such-client.pem');
    const run = await gameday(['status', workflowId], { ...tlsEnv, TEMPORAL_TLS_CLIENT_CERT_PATH: missing });
    assert.equal(run.code, 1);
    assert.equal(run.stderr.trim(), `gameday: TEMPORAL_TLS_CLIENT_CERT_PATH: no such file: ${missing}`);
  });

  test('an API key (TEMPORAL_API_KEY) reaches a gateway that checks the bearer key; a wrong one is refused in one line that does not print it', async () => {
    const env = { GAMEDAY_TASK_QUEUE: taskQueue, TEMPORAL_ADDRESS: gateway.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert, TEMPORAL_API_KEY: API_KEY };
    const ok = await gameday(['status', workflowId, '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { stage: string }).stage, 'done');
    assert.equal(gateway.refused(), 0);
    const wrong = `${API_KEY}-but-wrong`;
    const bad = await gameday(['status', workflowId], { ...env, TEMPORAL_API_KEY: wrong });
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), `gameday: the Temporal server at ${gateway.address} refused the API key in TEMPORAL_API_KEY: 16 UNAUTHENTICATED: API key missing or not valid`);
    assert.ok(gateway.refused() > 0);
    for (const out of [ok.stdout, ok.stderr, bad.stdout, bad.stderr]) assert.ok(!out.includes(API_KEY), out);
  });

  test('the worker behind TLS is still polling', () => {
    assert.match(worker.output(), new RegExp(`worker polling task queue '${taskQueue}' on ${proxy.address}`));
  });
});
