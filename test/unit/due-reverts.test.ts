import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DueReverts, type DueRevert } from '../../src/faults/due-reverts';

function due(key: string, inMs: number, inPlace = true): DueRevert & { reverts: number } {
  const d = {
    key,
    dueAtMs: Date.now() + inMs,
    reverts: 0,
    stillInPlace: async () => inPlace,
    revert: async () => {
      d.reverts++;
      return ['unpaused container box'];
    },
  };
  return d;
}

test('a fault armed with a due time is reverted once it is due, and the workflow revert then hears of it', async () => {
  const reverts = new DueReverts();
  const d = due('w/r/f1', 20);
  reverts.arm(d);
  assert.equal(reverts.pending, 1);
  await sleep(200);
  assert.equal(d.reverts, 1);
  assert.equal(reverts.pending, 0);
  const outcome = await reverts.disarm('w/r/f1');
  assert.equal(outcome?.reverted, true);
  assert.deepEqual(outcome?.reverted && outcome.lines, ['unpaused container box'], "the revert's own lines, for the run's record");
  assert.equal(await reverts.disarm('w/r/f1'), undefined, 'asked once, then forgotten');
});

test('a fault the workflow reverts first is not reverted again at its due time', async () => {
  const reverts = new DueReverts();
  const d = due('w/r/f1', 100);
  reverts.arm(d);
  assert.equal(await reverts.disarm('w/r/f1'), undefined);
  await sleep(250);
  assert.equal(d.reverts, 0);
});

test('a fault no longer in place at its due time (the run closed, or reverted it) is left alone', async () => {
  const reverts = new DueReverts();
  const d = due('w/r/f1', 10, false);
  reverts.arm(d);
  await sleep(150);
  assert.equal(d.reverts, 0);
  const outcome = await reverts.disarm('w/r/f1');
  assert.equal(outcome?.reverted, false);
});

test('a revert that fails at its due time is reported, not thrown: the workflow revert takes over', async () => {
  const reverts = new DueReverts();
  reverts.arm({ key: 'w/r/f1', dueAtMs: Date.now(), stillInPlace: async () => true, revert: async () => { throw new Error('engine down'); } });
  await sleep(100);
  const outcome = await reverts.disarm('w/r/f1');
  assert.deepEqual(outcome, { key: 'w/r/f1', reverted: false, why: 'engine down', failed: true });
});

test('closing stops every armed revert', async () => {
  const reverts = new DueReverts();
  const d = due('w/r/f1', 50);
  reverts.arm(d);
  reverts.close();
  await sleep(150);
  assert.equal(d.reverts, 0);
});
