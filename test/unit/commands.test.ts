/**
 * Commands in experiment files: the validation messages of their fields (file and field), and
 * the policy that runs a command only when a file of the worker's catalog holds it
 * (src/commands/policy.ts), on real catalog folders in a temporary directory.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { commandText } from '../../src/commands/command';
import { catalogCommands, checkCommands, CommandNotAllowed, commandsOfExperiment } from '../../src/commands/policy';
import { loadConfig } from '../../src/config';
import type { SpecProblem } from '../../src/errors';
import { parseExperiment } from '../../src/spec/loader';
import { experimentProblems } from '../spec-fixtures';

const FILE = 'exp.yaml';
type Doc = Record<string, any>;

function doc(): Doc {
  return {
    id: 'commands',
    title: 'commands',
    hypothesis: 'the marker comes and goes',
    targets: { box: { kind: 'docker', container: 'box' } },
    steadyState: [{ name: 'no marker', probe: { kind: 'command', container: 'box', command: 'test ! -e /tmp/m' }, expect: { exitCode: { equals: 0 } } }],
    method: [{ fault: { kind: 'docker-exec', target: 'box', command: 'touch /tmp/m', revert: ['rm', '-f', '/tmp/m'] }, duration: '1s' }],
    guardrails: [{ name: 'disk', probe: { kind: 'command', command: ['df', '/'], match: '100%' }, abortWhen: { matched: { equals: true } } }],
  };
}

const problemsOf = (d: unknown): SpecProblem[] => experimentProblems(d, FILE);
const only = (d: Doc, field: string, message: string): void => assert.deepEqual(problemsOf(d), [{ file: FILE, path: field, message }]);
const COMMAND_EXPECTED = 'expected a command: a string run with sh -c, or a list of words run as they are, such as ["rm", "-f", "/tmp/marker"]';

describe('command fields in an experiment file', () => {
  test('a document with a command probe and a docker-exec fault validates', () => {
    assert.equal(parseExperiment(doc(), FILE).method[0].fault.kind, 'docker-exec');
  });

  test('an empty command, string or list, is refused at its field', () => {
    const d = doc();
    d.method[0].fault.command = '   ';
    only(d, 'method.0.fault.command', 'the command is empty');
    const e = doc();
    e.steadyState[0].probe.command = [];
    only(e, 'steadyState.0.probe.command', 'the command is empty');
  });

  test('a command that is neither a string nor a list of strings says what a command is', () => {
    const d = doc();
    d.method[0].fault.revert = ['rm', 3];
    only(d, 'method.0.fault.revert', COMMAND_EXPECTED);
  });

  test('a docker-exec fault without its revert is refused: revert is required', () => {
    const d = doc();
    delete d.method[0].fault.revert;
    only(d, 'method.0.fault.revert', 'required');
  });

  test('a command longer than 4096 characters and a timeout over 5m are refused', () => {
    const d = doc();
    d.method[0].fault.command = 'x'.repeat(4097);
    d.method[0].fault.timeout = '10m';
    assert.deepEqual(problemsOf(d), [
      { file: FILE, path: 'method.0.fault.command', message: 'a command is at most 4096 characters' },
      { file: FILE, path: 'method.0.fault.timeout', message: 'timeout must be at most 5m' },
    ]);
  });

  test('a command probe measures exitCode, output and matched: another field is refused, listing them', () => {
    const d = doc();
    d.steadyState[0].expect = { status: { equals: 0 } };
    only(d, 'steadyState.0.expect.status', "a command probe does not measure 'status' (it measures: exitCode, output, matched, latencyMs, error)");
  });

  test('a match that is no regular expression is refused with the engine\'s reason', () => {
    const d = doc();
    d.guardrails[0].probe.match = '(';
    only(d, 'guardrails.0.probe.match', 'not a valid regular expression: /(/: Unterminated group');
  });
});

describe('the commands an experiment carries', () => {
  test('each with its field: the fault\'s command and revert, process-kill\'s restart, the probes\'', () => {
    const d = doc();
    d.targets.worker = { kind: 'process', pattern: 'worker' };
    d.method.push({ fault: { kind: 'process-kill', target: 'worker', restart: 'node worker.js &' }, duration: '1s' }, { fault: { kind: 'docker-pause', target: 'box' }, duration: '1s' });
    d.observe = { probes: [{ name: 'up', probe: { kind: 'command', command: 'true' } }] };
    assert.deepEqual(
      commandsOfExperiment(parseExperiment(d, FILE)).map((u) => [u.field, commandText(u.command)]),
      [
        ['method.0.fault.command', 'touch /tmp/m'],
        ['method.0.fault.revert', 'rm -f /tmp/m'],
        ['method.1.fault.restart', 'node worker.js &'],
        ['steadyState.0.probe.command', 'test ! -e /tmp/m'],
        ['observe.probes.0.probe.command', 'true'],
        ['guardrails.0.probe.command', 'df /'],
      ],
    );
  });
});

describe('the policy: a command runs only when a file of the catalog holds it', () => {
  let catalog: string;
  const policy = () => ({ allowInline: false, catalogDir: catalog });

  before(async () => {
    catalog = await mkdtemp(path.join(os.tmpdir(), 'gameday-policy-'));
    await writeFile(path.join(catalog, 'commands.json'), JSON.stringify(doc()));
    const stage = { ...doc(), id: 'stage', method: [{ fault: { kind: 'docker-exec', target: 'box', command: 'echo stage > /tmp/s', revert: 'rm -f /tmp/s' }, duration: '1s' }] };
    await writeFile(path.join(catalog, 'scenario.yaml'), JSON.stringify({ kind: 'scenario', id: 's', title: 's', stages: [{ name: 'one', spec: stage }] }));
    await writeFile(path.join(catalog, 'broken.yaml'), 'id: [unclosed');
    await writeFile(path.join(catalog, 'notes.txt'), 'command: rm -rf /');
  });

  test('the catalog holds the commands of its experiment files and of its scenarios\' inline stages, not of other files', async () => {
    const found = await catalogCommands(catalog);
    assert.ok(found.has(JSON.stringify('touch /tmp/m')));
    assert.ok(found.has(JSON.stringify(['rm', '-f', '/tmp/m'])));
    assert.ok(found.has(JSON.stringify('echo stage > /tmp/s')));
    assert.ok(!found.has(JSON.stringify('rm -rf /')));
  });

  test('an inline spec whose commands the catalog holds passes, with spaces around a string command or not', async () => {
    const d = doc();
    d.method[0].fault.command = '  touch /tmp/m ';
    await checkCommands(commandsOfExperiment(d), '<input>', policy());
  });

  test('one the catalog does not hold is refused, naming the input, the field and the variable that allows it', async () => {
    const d = doc();
    d.method[0].fault.revert = ['rm', '-rf', '/'];
    await assert.rejects(checkCommands(commandsOfExperiment(d), '<input>', policy()), (e: unknown) => {
      assert.ok(e instanceof CommandNotAllowed);
      assert.equal(e.type, 'CommandNotAllowed');
      assert.equal(e.file, '<input>');
      assert.equal(e.field, 'method.0.fault.revert');
      assert.equal(
        e.message,
        `<input>: method.0.fault.revert: the command \`rm -rf /\` is in no experiment file of the catalog (${catalog})\n` +
          'A command runs only from a file in the catalog: an input given inline (the Web UI, --input, a file elsewhere) runs none unless the worker sets GAMEDAY_ALLOW_INLINE_COMMANDS=true',
      );
      return true;
    });
  });

  test('a list command is not the same command as its words in a string', async () => {
    const d = doc();
    d.method[0].fault.revert = 'rm -f /tmp/m';
    await assert.rejects(checkCommands(commandsOfExperiment(d), '<input>', policy()), /method\.0\.fault\.revert/);
  });

  test('with allowInline any command passes; a host without a catalog runs none otherwise', async () => {
    const uses = [{ field: 'steadyState.0.probe.command', command: 'rm -rf /' }];
    await checkCommands(uses, '<input>', { allowInline: true, catalogDir: catalog });
    await assert.rejects(checkCommands(uses, 'fault f1', { allowInline: false }), /is in no experiment file of a catalog \(this host has none\)/);
  });

  test('GAMEDAY_ALLOW_INLINE_COMMANDS is true or false in the configuration, false unless set', () => {
    assert.equal(loadConfig({}).allowInlineCommands, false);
    assert.equal(loadConfig({ GAMEDAY_ALLOW_INLINE_COMMANDS: 'true' }).allowInlineCommands, true);
    assert.throws(() => loadConfig({ GAMEDAY_ALLOW_INLINE_COMMANDS: 'yes' }), /GAMEDAY_ALLOW_INLINE_COMMANDS: expected true or false/);
  });
});
