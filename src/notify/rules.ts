import { z } from 'zod';
import type { Delivery } from './delivery';

export type { Delivery } from './delivery';

/**
 * Who is told of what: the `notify` entries of an experiment file and the worker's
 * GAMEDAY_NOTIFY_* variables share these words and these defaults. Pure: the workflow and the
 * schema import it.
 */

/** What a notification can be about: a run's verdict, or a revert that keeps failing. */
export const NOTIFY_EVENTS = ['passed', 'failed', 'error', 'aborted', 'not-run', 'skipped', 'rollbackFailing'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** How a run was started (RunTriggerName): a Temporal Schedule, `gameday run`, or anything else (the Web UI, a client). */
export const NOTIFY_TRIGGERS = ['schedule', 'cli', 'web-ui'] as const;
export type NotifyTrigger = (typeof NOTIFY_TRIGGERS)[number];

export const NOTIFY_FORMATS = ['slack', 'json'] as const;
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number];

/** The verdicts told by default (of scheduled runs only), and a failing rollback (of any run). */
export const DEFAULT_NOTIFY_ON: readonly NotifyEvent[] = ['failed', 'error', 'aborted', 'rollbackFailing'];
export const DEFAULT_NOTIFY_TRIGGERS: readonly NotifyTrigger[] = ['schedule'];

/** A whole `${env:NAME}` reference, NAME captured. */
export const SECRET_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** True for an http(s) URL, or a whole `${env:NAME}` reference resolved on the worker. */
export function isWebhookUrl(url: string): boolean {
  if (SECRET_REF.test(url)) return true;
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

const WEBHOOK_URL_MESSAGE = 'expected an http(s) URL or a secret reference such as ${env:SLACK_WEBHOOK_URL}';

/** A webhook URL as written in a file (the reference, not its value, when it is one). */
export const webhookUrlSchema = z.string({ error: WEBHOOK_URL_MESSAGE }).refine(isWebhookUrl, { error: WEBHOOK_URL_MESSAGE });

/** One webhook of an experiment file. */
export const notifySchema = z.strictObject({
  /** Slack hook URLs are secrets: prefer `${env:NAME}`, resolved only inside the activity that sends. */
  url: webhookUrlSchema,
  /** `slack`: `{ text, blocks }` for an incoming webhook; `json` (default): the object in the README. */
  format: z.enum(NOTIFY_FORMATS, { error: 'expected slack or json' }).optional(),
  /** Default: failed, error, aborted, rollbackFailing. */
  on: z.array(z.enum(NOTIFY_EVENTS, { error: `expected one of ${NOTIFY_EVENTS.join(', ')}` })).min(1, { error: 'name at least one event, or leave out `on` for the default' }).optional(),
  /** Which runs' verdicts are told (rollbackFailing is told whatever started the run). Default: schedule. */
  triggers: z.array(z.enum(NOTIFY_TRIGGERS, { error: `expected one of ${NOTIFY_TRIGGERS.join(', ')}` })).min(1, { error: 'name at least one trigger, or leave out `triggers` for the default' }).optional(),
});
export type NotifySpec = z.infer<typeof notifySchema>;

/** A webhook with its defaults filled in. */
export interface NotifyRule {
  url: string;
  format: NotifyFormat;
  on: readonly NotifyEvent[];
  triggers: readonly NotifyTrigger[];
}

export function ruleOf(spec: NotifySpec): NotifyRule {
  return { url: spec.url, format: spec.format ?? 'json', on: spec.on ?? DEFAULT_NOTIFY_ON, triggers: spec.triggers ?? DEFAULT_NOTIFY_TRIGGERS };
}

/** Whether a webhook wants to hear of this event of a run started this way. */
export function wants(rule: NotifyRule, event: NotifyEvent, trigger: NotifyTrigger): boolean {
  if (!rule.on.includes(event)) return false;
  return event === 'rollbackFailing' || rule.triggers.includes(trigger);
}

/** The deliveries due for one event: the experiment's entries that want it, then the worker's. */
export function deliveriesFor(args: { specs?: NotifySpec[]; worker?: NotifyRule; event: NotifyEvent; trigger: NotifyTrigger }): Delivery[] {
  const mine: Delivery[] = (args.specs ?? []).flatMap((s, index) => {
    const rule = ruleOf(s);
    return wants(rule, args.event, args.trigger) ? [{ to: 'experiment' as const, index, url: rule.url, format: rule.format }] : [];
  });
  return args.worker && wants(args.worker, args.event, args.trigger) ? [...mine, { to: 'worker' }] : mine;
}
