/**
 * Failures of an HTTP dependency through its fault endpoint, on the demo target system's real
 * scoring service: during the fault its /score answers the injected status (or late), the worker
 * marks the message failed after its retries; after the revert it scores again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { injectFault, revertFault } from '../../src/faults';
import { planFault } from '../../src/faults/describe';
import type { Experiment, FaultSpec } from '../../src/spec/schema';
import { TARGET_SYSTEM, ensureTargetSystem, sendWebhook, waitForMessage } from '../../src/stack';
import { resolveTargets } from '../../src/targets';
import type { ExperimentResult, PlannedFault } from '../../src/types';
import { docker, eventually, startWorker, type TestWorker } from '../helpers';

const SCORING = { kind: 'http', url: TARGET_SYSTEM.scoringAdminUrl, name: 'scoring' } as const;

function experiment(fault: FaultSpec, duration = '4s'): Experiment {
  return {
    id: `http-${fault.kind}`,
    title: `${fault.kind} on scoring`,
    hypothesis: 'messages scored while scoring fails are marked failed, none stays queued; scoring answers after',
    targets: { scoring: SCORING },
    steadyState: [
      {
        name: 'scoring answers',
        probe: { kind: 'http', url: `${TARGET_SYSTEM.scoringUrl}/score`, method: 'POST', body: '{"text":"steady"}', timeout: '2s' },
        expect: { status: { equals: 200 } },
      },
    ],
    method: [{ fault, duration }],
    observe: {
      interval: '500ms',
      probes: [{ name: 'scoring during the fault', probe: { kind: 'http', url: `${TARGET_SYSTEM.scoringUrl}/score`, method: 'POST', body: '{"text":"during"}', timeout: '2s' }, expect: { status: { equals: 503 } }, samples: 'all' }],
    },
    recovery: { within: '10s', interval: '500ms' },
  };
}

async function plan(spec: Experiment, workflowId: string): Promise<PlannedFault> {
  const [target] = await resolveTargets({ docker }, spec, { allowlist: [] });
  return planFault(workflowId, 'f1', 0, spec.method[0].fault, target, 4000);
}

async function score(timeoutMs = 5000): Promise<{ status?: number; error?: string }> {
  try {
    const res = await fetch(`${TARGET_SYSTEM.scoringUrl}/score`, { method: 'POST', body: '{"text":"probe"}', signal: AbortSignal.timeout(timeoutMs) });
    await res.text();
    return { status: res.status };
  } catch (e) {
    return { error: (e as Error).name };
  }
}

async function faultInPlace(): Promise<{ status?: number; delayMs?: number; percent?: number; tag?: string } | null> {
  return ((await (await fetch(`${TARGET_SYSTEM.scoringAdminUrl}/fault`)).json()) as { fault: null }).fault;
}

describe('http dependency faults on the demo scoring service', () => {
  let w: TestWorker | undefined;

  before(async () => {
    await ensureTargetSystem(docker);
    w = await startWorker('http-faults');
  });
  after(async () => {
    await fetch(`${TARGET_SYSTEM.scoringAdminUrl}/fault`, { method: 'DELETE' }).catch(() => undefined);
    await w?.stop();
  });

  test('http-error makes scoring answer the status during the fault; its revert restores it, twice over', async () => {
    const planned = await plan(experiment({ kind: 'http-error', target: 'scoring', status: 503 }), 'direct-error');
    assert.equal(planned.description, 'answer every request to scoring with 503');
    assert.equal((await score()).status, 200, 'scoring answers before the fault');

    await injectFault({ docker }, planned);
    assert.deepEqual(await faultInPlace(), { status: 503, delayMs: 0, percent: 100, tag: planned.tag });
    assert.equal((await score()).status, 503, 'scoring answers 503 during the fault');

    assert.deepEqual(await revertFault({ docker }, planned), [`cleared the fault at ${TARGET_SYSTEM.scoringAdminUrl}/fault`]);
    assert.equal(await faultInPlace(), null);
    assert.equal((await score()).status, 200, 'scoring answers again after the revert');
    await revertFault({ docker }, planned); // a second revert succeeds
  });

  test('http-delay makes a caller with a shorter timeout give up during the fault only', async () => {
    const planned = await plan(experiment({ kind: 'http-delay', target: 'scoring', delay: '3s' }), 'direct-delay');
    await injectFault({ docker }, planned);
    try {
      assert.equal((await score(1000)).error, 'TimeoutError', 'a 1 s caller times out while scoring waits 3 s');
    } finally {
      await revertFault({ docker }, planned);
    }
    assert.equal((await score(1000)).status, 200);
  });

  test('a fault endpoint that is not there is reported as such, naming the URL', async () => {
    const spec = experiment({ kind: 'http-error', target: 'scoring', status: 503 });
    spec.targets.scoring = { ...SCORING, faultPath: '/no-such-endpoint' };
    const planned = await plan(spec, 'direct-missing');
    await assert.rejects(injectFault({ docker }, planned), /http:\/\/127\.0\.0\.1:18092\/no-such-endpoint is not a fault endpoint \(404\)/);
  });

  test('an experiment fails scoring during observe: a message sent then is marked failed, and scoring recovers', async () => {
    const handle = await w!.start({ spec: experiment({ kind: 'http-error', target: 'scoring', status: 503 }, '8s') });
    await eventually('the fault to be in place', async () => (await faultInPlace()) !== null, 30_000);
    const id = await sendWebhook('sent while scoring fails');
    const during = await waitForMessage(id);
    assert.equal(during.status, 'failed', 'the worker gives up after its retries and marks the message failed');
    assert.match(during.error ?? '', /scoring answered 503/);

    const result = (await handle.result()) as ExperimentResult;
    assert.equal(result.verdict, 'passed', result.reason);
    assert.equal(result.rollback, 'complete');
    assert.equal(await faultInPlace(), null, 'no fault left after the experiment');
    const after = await waitForMessage(await sendWebhook('sent after the experiment'));
    assert.equal(after.status, 'scored');
  });
});
