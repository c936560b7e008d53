import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseCircular, parseDependencyTree } from 'dpdm';
import { FAMILIES } from '../../src/faults';
import { describeFault, manualRevert, planFault } from '../../src/faults/describe';
import { targetKindOf } from '../../src/faults/kinds';
import { faultSchema } from '../../src/spec/fault-schema';
import type { FaultSpec } from '../../src/spec/schema';
import type { ResolvedTarget } from '../../src/types';

const ROOT = path.resolve(__dirname, '..', '..', '..');

test('the sources have no import cycle (src/faults among them), type-only imports aside', async () => {
  const tree = await parseDependencyTree(['src/**/*.ts', 'activities/*.ts', 'workflows/*.ts'], {
    context: ROOT,
    cwd: ROOT,
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    transform: true, // drops `import type`, which Node never loads
    skipDynamicImports: false,
    include: /\.ts$/,
    exclude: /node_modules/,
    extensions: ['.ts', '.js', '.json'],
    js: ['.ts', '.js'],
    onProgress: () => undefined,
  });
  assert.ok(Object.keys(tree).some((f) => f.startsWith('src/faults/')), 'the tree holds src/faults');
  assert.deepEqual(parseCircular(tree, false), []);
});

const KINDS = faultSchema.options.map((o) => o.shape.kind.value);

test('every fault kind of the schema has its family\'s inject and revert, and no family acts on a kind the schema lacks', () => {
  for (const kind of KINDS) {
    const action = (FAMILIES[targetKindOf(kind)].faults as Record<string, { inject?: unknown; revert?: unknown }>)[kind];
    assert.equal(typeof action?.inject, 'function', `${kind}: inject`);
    assert.equal(typeof action?.revert, 'function', `${kind}: revert`);
  }
  const acted = Object.values(FAMILIES).flatMap((f) => Object.keys(f.faults));
  assert.deepEqual([...acted].sort(), [...KINDS].sort());
});

test('every fault kind says what it does and how to undo it, naming what its target resolved to', () => {
  const target: ResolvedTarget = { name: 't', selector: 'container demo-nats', refs: [{ id: 'abc', name: 'demo-nats' }] };
  // The smallest valid fault of each kind, from its schema's required fields.
  const samples: Record<string, Record<string, unknown>> = {
    'docker-disconnect': { network: 'demo' },
    'docker-packet-loss': { percent: 50 },
    'docker-memory-stress': { megabytes: 64 },
    'docker-exec': { command: 'touch /tmp/marker', revert: ['rm', '-f', '/tmp/marker'] },
    'postgres-lock-table': { table: 'messages' },
    'toxiproxy-latency': { latency: '1s' },
    'toxiproxy-timeout': { timeout: '1s' },
    'toxiproxy-bandwidth': { kbPerSecond: 10 },
    'http-error': { status: 503 },
    'http-delay': { delay: '1s' },
    'proxy-error': { status: 503 },
    'proxy-delay': { delay: '1s' },
  };
  for (const kind of KINDS) {
    const fault = faultSchema.parse({ kind, target: 't', ...samples[kind] }) as FaultSpec;
    const words = describeFault(fault, target);
    assert.ok(words.length > 5 && !words.includes('undefined'), `${kind}: "${words}"`);
    const planned = planFault('wf-1', 'f1', 0, fault, target, 1000);
    assert.equal(planned.description, words);
    const undo = manualRevert(planned);
    assert.ok(undo.length > 5 && !undo.includes('undefined'), `${kind}: "${undo}"`);
  }
});
