import { ApplicationFailure, log, ParentClosePolicy, patched, proxyActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Notice } from '../src/notify/message';
import { deliveryLabel, type Delivery } from '../src/notify/delivery';

/** Runs since this marker have their verdict told to the webhooks that want it. */
export const NOTIFY_PATCH = 'notify';

// Bounded: 6 tries over about a minute and a half (1 + 2 + 4 + 8 + 16 s apart, 10 s each at most).
const { sendNotification } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 6, nonRetryableErrorTypes: ['WebhookRejected', 'InvalidConfig', 'SecretMissing'] },
});

/**
 * Tells one notice to every delivery, each retried on its own. A delivery that gave up is logged
 * and fails this workflow (red in the Web UI, its message naming the webhook), after the others.
 */
export async function notify(args: { notice: Notice; deliveries: Delivery[] }): Promise<{ sentTo: string[] }> {
  const results = await Promise.allSettled(args.deliveries.map((delivery) => sendNotification({ notice: args.notice, delivery })));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${deliveryLabel(args.deliveries[i])}: ${causeOf(r.reason)}`] : []));
  if (failed.length) {
    log.warn(`notification of ${args.notice.event} for ${args.notice.workflowId} not delivered: ${failed.join('; ')}`);
    throw ApplicationFailure.nonRetryable(`not delivered: ${failed.join('; ')}`, 'NotificationFailed');
  }
  return { sentTo: results.map((r) => (r.status === 'fulfilled' ? r.value.sentTo : '')) };
}

/**
 * Starts the notification of a finished run as a child the run does not wait for (it survives
 * the run's end: ABANDON), so that a receiver that is down delays neither the result nor
 * anything else; the run waits only for the server to accept the child. Nothing to tell, nothing
 * started: runs without webhooks keep their histories as they were.
 */
export async function tellFinished(notice: Notice, deliveries: Delivery[] | undefined): Promise<void> {
  if (!deliveries?.length || !patched(NOTIFY_PATCH)) return;
  const workflowId = `${notice.workflowId}-notify-${notice.runId}`;
  await startChild(notify, { workflowId, args: [{ notice, deliveries }], parentClosePolicy: ParentClosePolicy.ABANDON }).catch((e: unknown) => {
    log.warn(`notification workflow ${workflowId} not started: ${(e as Error).message}`);
  });
}

function causeOf(e: unknown): string {
  const err = e as Error & { cause?: Error };
  return err.cause?.message ?? err.message;
}
