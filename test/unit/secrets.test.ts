/**
 * Secret references (`${env:NAME}`) and the masking of passwords in URLs: how references are
 * found, validated, resolved and scrubbed, and what every place that shows a target or a probe
 * shows. The end-to-end case (a worker, a real password) is test/integration/secrets.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { validateFiles } from '../../src/cli/validate';
import { FailureType, GamedayError, InvalidExperimentError } from '../../src/errors';
import { manualRevert } from '../../src/faults/describe';
import { maskPasswords, maskPasswordsIn } from '../../src/mask';
import { runCheck } from '../../src/probes';
import { malformedReferences, resolveSecrets, scrubError, secretReferences, secretWarnings, withSecrets } from '../../src/secrets';
import { parseExperiment } from '../../src/spec/loader';
import { maskUrl } from '../../src/store/url';
import { checkSecrets } from '../../src/targets';
import type { PlannedFault } from '../../src/types';

const FILE = 'db.yaml';

/** A valid experiment whose target and probe take their connection string from `url`. */
function doc(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'db-terminate',
    title: 'backends terminated',
    hypothesis: 'the application reconnects',
    targets: { db: { kind: 'postgres', connectionString: url } },
    steadyState: [{ name: 'db answers', probe: { kind: 'postgres', connectionString: url, query: 'SELECT 1' }, expect: { value: { equals: 1 } } }],
    method: [{ fault: { kind: 'postgres-terminate-backends', target: 'db' }, duration: '5s' }],
    ...extra,
  };
}

function problemsOf(d: unknown): { path: string; message: string }[] {
  try {
    parseExperiment(d, FILE);
    return [];
  } catch (e) {
    if (!(e instanceof InvalidExperimentError)) throw e;
    return e.problems.map(({ path: p, message }) => ({ path: p, message }));
  }
}

describe('secret references in a file', () => {
  test('A reference for the password inside a connection string validates and stays as written', () => {
    const url = 'postgres://app:${env:DB_PASSWORD}@127.0.0.1:5432/app';
    const spec = parseExperiment(doc(url), FILE);
    assert.equal(spec.targets.db.kind === 'postgres' && spec.targets.db.connectionString, url);
  });

  test('A whole connection string, URL or NATS URL may be one reference', () => {
    const d = doc('${env:DATABASE_URL}', {
      observe: { probes: [{ name: 'api', probe: { kind: 'http', url: '${env:API_URL}' } }, { name: 'bus', probe: { kind: 'nats-stream', url: '${env:NATS_URL}', stream: 'tasks' } }] },
    });
    assert.deepEqual(problemsOf(d), []);
  });

  test('References in a host and a port are checked with the rest of the URL, which must still be one', () => {
    assert.deepEqual(problemsOf(doc('postgres://app@${env:DB_HOST}:${env:DB_PORT}/app')), []);
    assert.deepEqual(
      problemsOf(doc('mysql://app:${env:DB_PASSWORD}@127.0.0.1/app')).map((p) => p.path),
      ['targets.db.connectionString', 'steadyState.0.probe.connectionString'],
    );
  });

  test('A malformed reference is a problem naming the file, the field and what to write', () => {
    const d = doc('postgres://app:${env:db_password}@127.0.0.1/app');
    const message = 'malformed secret reference "${env:db_password}": write ${env:NAME}, NAME in upper-case letters, digits and underscores (e.g. ${env:DB_PASSWORD})';
    assert.deepEqual(problemsOf(d), [
      { path: 'targets.db.connectionString', message },
      { path: 'steadyState.0.probe.connectionString', message },
    ]);
    assert.throws(() => parseExperiment(d, FILE), (e: Error) => e.message.startsWith(`${FILE}: targets.db.connectionString: malformed secret reference`));
  });

  test('An unclosed or empty reference anywhere, a header among them, is malformed', () => {
    assert.deepEqual(malformedReferences({ a: { b: ['Bearer ${env:TOKEN'] }, c: 'x${env:}y' }).map((p) => p.path), ['a.b.0', 'c']);
    assert.deepEqual(malformedReferences({ a: 'Bearer ${env:TOKEN}', b: '${HOME} is not a reference' }), []);
  });

  test('References are found with their paths, in order', () => {
    assert.deepEqual(secretReferences({ h: { Authorization: 'Bearer ${env:TOKEN}' }, u: ['${env:A}${env:B_2}'] }), [
      { name: 'TOKEN', path: 'h.Authorization' },
      { name: 'A', path: 'u.0' },
      { name: 'B_2', path: 'u.0' },
    ]);
  });
});

describe('resolving on the worker', () => {
  test('Every reference is replaced by its variable, and the values are returned to scrub', () => {
    const r = resolveSecrets({ url: 'postgres://app:${env:PW}@h/db', n: 3 }, { PW: 's3cret-pw' });
    assert.deepEqual(r, { value: { url: 'postgres://app:s3cret-pw@h/db', n: 3 }, secrets: ['s3cret-pw'] });
  });

  test('Unset (or empty) variables are one SecretMissing error naming each, with its field and the experiment', () => {
    const spec = parseExperiment(doc('postgres://app:${env:H_SEC_UNIT_PW}@127.0.0.1/app'), FILE);
    assert.throws(
      () => checkSecrets(spec, FILE, { H_SEC_UNIT_PW: '' }),
      (e: GamedayError) =>
        e.type === FailureType.SecretMissing &&
        e.message ===
          'experiment db-terminate (db.yaml): environment variable H_SEC_UNIT_PW is not set on the worker (${env:H_SEC_UNIT_PW} in targets.db.connectionString, ${env:H_SEC_UNIT_PW} in steadyState.0.probe.connectionString); set it in the worker\'s environment; nothing was injected',
    );
    assert.doesNotThrow(() => checkSecrets(spec, FILE, { H_SEC_UNIT_PW: 'x' }));
  });

  test('What the use of a secret returns or throws is scrubbed of its value, and the error keeps its type', async () => {
    const env = { PW: 'hunter2-long' };
    const out = await withSecrets({ p: '${env:PW}' }, env, async (r) => ({ said: `connected with ${r.p}`, n: 1 }));
    assert.deepEqual(out, { said: 'connected with ***', n: 1 });
    const thrown = await withSecrets({ p: '${env:PW}' }, env, async (r) => {
      throw new GamedayError(FailureType.TargetNotFound, `no database for ${r.p}`);
    }).catch((e: unknown) => e as GamedayError);
    assert.ok(thrown instanceof GamedayError);
    assert.equal(thrown.type, FailureType.TargetNotFound);
    assert.equal(thrown.message, 'no database for ***');
    assert.ok(!thrown.stack?.includes('hunter2-long'));
  });

  test('A scrubbed error keeps its name and code and drops its cause', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED for hunter2-long', { cause: new Error('hunter2-long') }), { code: 'ECONNREFUSED', name: 'TargetUnreachable' });
    const clean = scrubError(e, ['hunter2-long']) as Error & { code?: string };
    assert.deepEqual([clean.name, clean.code, clean.message, clean.cause], ['TargetUnreachable', 'ECONNREFUSED', 'connect ECONNREFUSED for ***', undefined]);
  });

  test('A probe whose variable is unset is a failed sample naming it, not an exception', async () => {
    const sample = await runCheck({ name: 'db', probe: { kind: 'postgres', connectionString: 'postgres://a:${env:H_SEC_NOT_SET}@127.0.0.1:1/x', query: 'SELECT 1' } }, 'baseline', { env: {} });
    assert.equal(sample.ok, false);
    assert.match(sample.error, /H_SEC_NOT_SET is not set on the worker \(\$\{env:H_SEC_NOT_SET\} in connectionString\)/);
  });
});

describe('masking passwords in URLs', () => {
  test('A password in a postgres, http or nats URL is shown as ***, whatever surrounds it', () => {
    assert.equal(maskPasswords('psql postgres://app:s3cret@db:5432/app -c x'), 'psql postgres://app:***@db:5432/app -c x');
    assert.equal(maskPasswords("curl 'http://admin:pa$$@127.0.0.1:8474/proxies'"), "curl 'http://admin:***@127.0.0.1:8474/proxies'");
    assert.equal(maskPasswords('nats://u:p@h:4222 and tls://v:q@k'), 'nats://u:***@h:4222 and tls://v:***@k');
    assert.equal(maskPasswords('postgres://app:p@ss@db/app'), 'postgres://app:***@db/app');
    assert.equal(maskPasswords('postgres://app@db/app?sslmode=require&password=s3cret'), 'postgres://app@db/app?sslmode=require&password=***');
  });

  test('URLs without a password, ports and secret references are left as they are', () => {
    for (const s of ['http://127.0.0.1:8080/health', 'postgres://postgres@127.0.0.1:55432/gameday', 'postgres://app:${env:DB_PASSWORD}@db/app', 'user@example.com: 10:30']) assert.equal(maskPasswords(s), s);
  });

  test('Masking a document masks every string in it and changes nothing else', () => {
    assert.deepEqual(maskPasswordsIn({ a: ['postgres://u:p@h/d', 2], b: { c: true, d: 'plain' } }), { a: ['postgres://u:***@h/d', 2], b: { c: true, d: 'plain' } });
  });

  test("The results store's URL in messages is masked by the same function", () => {
    assert.equal(maskUrl('postgres://gameday:s3cret@db.example:5432/gameday'), 'postgres://gameday:***@db.example:5432/gameday');
  });

  test("A fault's manual revert in the report shows its connection string with the password masked", () => {
    const planned = {
      id: 'f1',
      step: 0,
      tag: 'gameday-1234abcd-f1',
      fault: { kind: 'postgres-lock-table', target: 'db', table: 'orders' },
      target: { name: 'db', kind: 'postgres', selector: 'postgres 127.0.0.1:5432/app', refs: [{ id: 'x', name: 'postgres 127.0.0.1:5432/app' }], spec: { kind: 'postgres', connectionString: 'postgres://app:s3cret@127.0.0.1:5432/app' } },
      status: 'injected',
      description: 'lock table orders',
    } as PlannedFault;
    assert.match(manualRevert(planned), /^psql 'postgres:\/\/app:\*\*\*@127\.0\.0\.1:5432\/app' -c/);
  });
});

describe('warnings of gameday validate', () => {
  test('A typed password and a variable unset on this machine are warnings that say where and what to do', () => {
    const spec = doc('postgres://app:s3cret@127.0.0.1/app', { observe: { probes: [{ name: 'api', probe: { kind: 'http', url: 'http://127.0.0.1/${env:H_SEC_NOT_HERE}' } }] } });
    const warnings = secretWarnings(spec, {});
    assert.deepEqual(
      warnings.map((w) => w.path),
      ['targets.db.connectionString', 'steadyState.0.probe.connectionString', 'observe.probes.0.probe.url'],
    );
    assert.match(warnings[0].message, /stored as typed in the run's Temporal history and memo .* write \$\{env:NAME\} instead/);
    assert.match(warnings[2].message, /\$\{env:H_SEC_NOT_HERE\} is not set on this machine; the worker resolves it from its own environment/);
  });

  test('validate prints the warnings and still finds the file valid', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'h-sec-validate-'));
    try {
      const file = path.join(dir, 'db.json');
      await writeFile(file, JSON.stringify(doc('postgres://app:${env:H_SEC_NOT_HERE}@127.0.0.1/app')));
      const warned: string[] = [];
      assert.deepEqual(await validateFiles([file], (l) => warned.push(l), {}), []);
      assert.equal(warned.length, 2);
      assert.ok(warned[0].startsWith(`${file}: targets.db.connectionString: warning: \${env:H_SEC_NOT_HERE} is not set on this machine`), warned[0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
