import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config';
import { GamedayError } from '../../src/errors';
import { temporalConnectionOptions } from '../../src/temporal-connection';

const API_KEY = 'test-api-key-must-never-be-printed';

/** The InvalidConfig message loadConfig throws for `env`. */
function problemOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof GamedayError && e.type === 'InvalidConfig', String(e));
    return e.message;
  }
  assert.fail('expected an InvalidConfig error');
}

describe("Temporal's connection settings (envconfig)", () => {
  let dir: string;
  let toml: string;
  let cert: string;
  let key: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-envconfig-'));
    [cert, key] = [path.join(dir, 'client.pem'), path.join(dir, 'client.key')];
    await writeFile(cert, 'not checked before connecting\n');
    await writeFile(key, 'not checked before connecting\n');
    toml = path.join(dir, 'temporal.toml');
    await writeFile(
      toml,
      [
        '[profile.default]',
        'address = "10.0.0.5:7233"',
        '',
        '[profile.prod]',
        'address = "prod.example.com:7233"',
        'namespace = "gameday-prod"',
        '[profile.prod.tls]',
        `client_cert_path = "${cert}"`,
        `client_key_path = "${key}"`,
        '',
        '[profile.cloud]',
        'address = "eu-west-1.aws.api.temporal.io:7233"',
        'namespace = "gameday.a1b2c"',
        `api_key = "${API_KEY}"`,
        '',
        '[profile.halfpair.tls]',
        `client_cert_path = "${cert}"`,
      ].join('\n'),
    );
  });

  test('with nothing set, the local stack: 127.0.0.1:7233, namespace default, plaintext', () => {
    const c = loadConfig({});
    assert.equal(c.temporalAddress, '127.0.0.1:7233');
    assert.equal(c.namespace, 'default');
    assert.deepEqual(temporalConnectionOptions(c), { address: '127.0.0.1:7233', tls: undefined, apiKey: undefined, metadata: undefined });
  });

  test('TEMPORAL_TLS_* variables give mutual TLS with the files read as the SDK wants them', () => {
    const c = loadConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key, TEMPORAL_TLS_SERVER_CA_CERT_PATH: cert });
    const o = temporalConnectionOptions(c);
    assert.equal(o.address, 'temporal.internal:7233');
    assert.ok(typeof o.tls === 'object');
    assert.equal(Buffer.from(o.tls.clientCertPair!.crt).toString(), 'not checked before connecting\n');
    assert.ok(o.tls.serverRootCACertificate);
    assert.match(c.temporalCredentials.describe(), /^mutual TLS \(client certificate .*client\.pem\)$/);
  });

  test('TEMPORAL_PROFILE picks a profile of TEMPORAL_CONFIG_FILE; the variables win over it', () => {
    const prod = loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    assert.equal(prod.temporalAddress, 'prod.example.com:7233');
    assert.equal(prod.namespace, 'gameday-prod');
    assert.ok(typeof temporalConnectionOptions(prod).tls === 'object');
    assert.equal(loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other' }).namespace, 'other');
    // No TEMPORAL_PROFILE: the file's `default` profile.
    assert.equal(loadConfig({ TEMPORAL_CONFIG_FILE: toml }).temporalAddress, '10.0.0.5:7233');
  });

  test('without TEMPORAL_CONFIG_FILE, ~/.config/temporalio/temporal.toml when it exists, as for the Temporal CLI', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'gameday-home-'));
    await mkdir(path.join(home, '.config', 'temporalio'), { recursive: true });
    await writeFile(path.join(home, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\nnamespace = "from-home"\n');
    assert.equal(loadConfig({ HOME: home }).namespace, 'from-home');
    assert.equal(loadConfig({ HOME: path.join(home, 'nobody') }).namespace, 'default');
  });

  test('an API key turns TLS on and is passed to the SDK, but never printed: not by describe, JSON or inspect', () => {
    const c = loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'cloud' });
    const o = temporalConnectionOptions(c);
    assert.equal(o.apiKey, API_KEY);
    assert.equal(o.tls, true);
    assert.equal(c.temporalCredentials.describe(), "TLS, API key set, profile 'cloud' of " + toml);
    for (const shown of [JSON.stringify(c), inspect(c, { depth: 10 }), String(c.temporalCredentials), JSON.stringify({ ...c })]) assert.ok(!shown.includes(API_KEY), shown);
    const env = loadConfig({ TEMPORAL_API_KEY: API_KEY });
    assert.equal(temporalConnectionOptions(env).apiKey, API_KEY);
    assert.ok(!inspect(env, { depth: 10 }).includes(API_KEY));
  });

  test('a certificate path that does not exist is named with the variable it came from, when connecting', () => {
    const missing = path.join(dir, 'nope.pem');
    const c = loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: key });
    assert.throws(() => temporalConnectionOptions(c), { message: `TEMPORAL_TLS_CLIENT_CERT_PATH: no such file: ${missing}` });
    const ca = loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing });
    assert.throws(() => temporalConnectionOptions(ca), { message: `TEMPORAL_TLS_SERVER_CA_CERT_PATH: no such file: ${missing}` });
  });

  test('a certificate without its key is refused, naming the setting to add', () => {
    assert.match(problemOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert }), /TEMPORAL_TLS_CLIENT_CERT_PATH: a client certificate needs its key: set TEMPORAL_TLS_CLIENT_KEY_PATH too/);
    assert.match(problemOf({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'halfpair' }), new RegExp(`tls.client_cert_path in profile 'halfpair' of ${toml}: a client certificate needs its key: set tls.client_key_path in profile 'halfpair' of ${toml} too`));
  });

  test('an unknown profile, a missing config file and a bad address are named with every other problem', () => {
    assert.match(problemOf({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' }), new RegExp(`TEMPORAL_PROFILE: no profile 'staging' in ${toml} \\(profiles there: default, prod, cloud, halfpair\\)`));
    const gone = path.join(dir, 'gone.toml');
    const both = problemOf({ TEMPORAL_CONFIG_FILE: gone, GAMEDAY_UI_PORT: '99999' });
    assert.match(both, new RegExp(`TEMPORAL_CONFIG_FILE: no such file: ${gone}`));
    assert.match(both, /GAMEDAY_UI_PORT: /);
    assert.match(problemOf({ TEMPORAL_PROFILE: 'prod' }), /TEMPORAL_PROFILE: profile 'prod' asked for, but there is no config file: set TEMPORAL_CONFIG_FILE/);
    assert.match(problemOf({ TEMPORAL_ADDRESS: 'localhost' }), /TEMPORAL_ADDRESS: expected host:port, e\.g\. 127\.0\.0\.1:7233/);
  });

  test('a broken temporal.toml is named with the line, without quoting it (it may hold an API key)', async () => {
    const bad = path.join(dir, 'bad.toml');
    await writeFile(bad, `[profile.default]\napi_key = "${API_KEY}\n`);
    const message = problemOf({ TEMPORAL_CONFIG_FILE: bad });
    assert.match(message, new RegExp(`${bad}: Invalid TOML document: .* \\(line 2, column \\d+\\)`));
    assert.ok(!message.includes(API_KEY), message);
    const typo = path.join(dir, 'typo.toml');
    await writeFile(typo, '[profile.default.tls]\nclient_cert_pth = "/x"\n');
    assert.match(problemOf({ TEMPORAL_CONFIG_FILE: typo }), new RegExp(`${typo}: Validation error: key\\(s\\) unrecognized in profile.default.tls: client_cert_pth`));
  });
});
