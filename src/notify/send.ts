import { resolveSecrets } from '../secrets';
import { SECRET_REF } from './rules';

/** How long one POST may take: a receiver that never answers costs this much, then a retry. */
export const WEBHOOK_TIMEOUT_MS = 5000;

/**
 * A webhook URL as it may be shown: its origin only, the rest masked (a Slack hook's path is its
 * secret, and so are tokens in the query or a password). A `${env:NAME}` reference is shown as is.
 */
export function maskUrl(url: string): string {
  if (SECRET_REF.test(url)) return url;
  try {
    const u = new URL(url);
    const hidden = u.pathname.length > 1 || u.search !== '' || u.username !== '';
    return `${u.protocol}//${u.host}${hidden ? '/***' : '/'}`;
  } catch {
    return '***';
  }
}

/**
 * The URL with its `${env:NAME}` reference replaced by the worker's variable (src/secrets.ts).
 * @throws GamedayError SecretMissing naming the variable when it is unset.
 */
export function resolveWebhookUrl(url: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolveSecrets(url, env, 'notify').value;
}

/** A receiver's answer that a retry will not change (4xx but timeout and rate limit). */
export class WebhookRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookRejected';
  }
}

/**
 * POSTs the body as JSON, within `timeoutMs`. Errors name the masked URL, never the URL.
 * @throws WebhookRejected for an answer a retry will not change; Error for anything else.
 */
export async function postWebhook(url: string, body: unknown, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<void> {
  const shown = maskUrl(url);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((e as Error & { cause?: Error }).cause?.message ?? (e as Error).message);
    throw new Error(`webhook ${shown}: ${why}`);
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.ok) return;
  const message = `webhook ${shown} answered ${res.status} ${res.statusText}`.trim();
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new WebhookRejected(message);
  throw new Error(message);
}
