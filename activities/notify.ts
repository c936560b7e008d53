import { ApplicationFailure, Context } from '@temporalio/activity';
import { GamedayError } from '../src/errors';
import { renderNotice, type Notice } from '../src/notify/message';
import { maskUrl, postWebhook, resolveWebhookUrl, WebhookRejected } from '../src/notify/send';
import { deliveryLabel } from '../src/notify/delivery';
import { deliveriesFor, type Delivery, type NotifyRule, type NotifySpec, type NotifyTrigger } from '../src/notify/rules';

export interface NotifyDeps {
  /** The worker's own webhook (GAMEDAY_NOTIFY_URL …), told of every run; none when unset. */
  notify?: NotifyRule;
  /** The Temporal Web UI's address and namespace, for the run's link. */
  uiUrl: string;
  namespace: string;
  /** Where `${env:NAME}` references are read; the process's environment by default. */
  env?: NodeJS.ProcessEnv;
}

/** What the revert activity knows of its run, for a rollbackFailing notification. */
export interface RevertRun {
  experimentId: string;
  title: string;
  trigger: NotifyTrigger;
  /** The experiment file's webhooks (URLs as written: a `${env:NAME}` reference stays one). */
  notify?: NotifySpec[];
}

/** Tries of a rollbackFailing notification, each within the webhook timeout, a second apart. */
const ROLLBACK_FAILING_TRIES = 3;

/** Where a delivery goes and in which format; the URL resolved here, on the worker, and nowhere else. */
function target(deps: NotifyDeps, d: Delivery): { url: string; format: NotifyRule['format'] } {
  if (d.to === 'worker') {
    if (!deps.notify) throw new GamedayError('InvalidConfig', 'GAMEDAY_NOTIFY_URL is not set on the worker that sends this notification');
    return { url: deps.notify.url, format: deps.notify.format };
  }
  return { url: resolveWebhookUrl(d.url, deps.env), format: d.format };
}

async function deliver(deps: NotifyDeps, notice: Notice, d: Delivery): Promise<string> {
  const { url, format } = target(deps, d);
  await postWebhook(url, renderNotice(notice, format, deps));
  return maskUrl(url);
}

/**
 * The notification activity, and the rollbackFailing notifications the revert activity sends
 * beside its work without waiting for them.
 */
export function createNotifyActivities(deps: NotifyDeps) {
  return {
    /**
     * POSTs one notification. A receiver that is down or answers 5xx fails the attempt (Temporal
     * retries it); one that refuses it (4xx), or a URL that cannot be resolved, fails for good.
     */
    async sendNotification(args: { notice: Notice; delivery: Delivery }): Promise<{ sentTo: string }> {
      try {
        const sentTo = await deliver(deps, args.notice, args.delivery);
        Context.current().log.info(`notified ${deliveryLabel(args.delivery)} (${sentTo}) of ${args.notice.event}: ${args.notice.workflowId}`);
        return { sentTo };
      } catch (e) {
        if (e instanceof GamedayError || e instanceof WebhookRejected) throw ApplicationFailure.nonRetryable((e as Error).message, e instanceof WebhookRejected ? 'WebhookRejected' : e.type);
        throw e;
      }
    },
  };
}

/**
 * Tells every webhook that wants it that a revert keeps failing, in the background: it returns at
 * once, its tries end within ROLLBACK_FAILING_TRIES webhook timeouts, and a failure is logged,
 * never thrown, so that nothing a receiver does can hold up or fail the revert.
 */
export function notifyRollbackFailing(deps: NotifyDeps, run: RevertRun | undefined, notice: Omit<Notice, 'event' | 'experimentId' | 'title' | 'trigger'>): void {
  if (!run) return;
  // Kept now: the tries outlive the activity attempt that started them.
  const log = Context.current().log;
  const full: Notice = { ...notice, event: 'rollbackFailing', experimentId: run.experimentId, title: run.title, trigger: run.trigger };
  for (const d of deliveriesFor({ specs: run.notify, worker: deps.notify, event: 'rollbackFailing', trigger: run.trigger })) {
    void (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await deliver(deps, full, d);
          return;
        } catch (e) {
          if (attempt >= ROLLBACK_FAILING_TRIES || e instanceof GamedayError || e instanceof WebhookRejected) {
            log.warn(`rollbackFailing notification to ${deliveryLabel(d)} not delivered: ${(e as Error).message}`, { workflowId: notice.workflowId });
            return;
          }
          await new Promise((r) => setTimeout(r, 1000).unref());
        }
      }
    })();
  }
}
