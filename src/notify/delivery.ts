/**
 * Where a notification goes, as it may be written into a workflow's history: an experiment's
 * entry keeps its URL as written (a `${env:NAME}` reference stays one); the worker's own webhook
 * is named only, its URL read from the environment of the worker that sends. Pure: workflows
 * import it.
 */
export type Delivery = { to: 'worker' } | { to: 'experiment'; index: number; url: string; format: 'slack' | 'json' };

/** A delivery in words for logs and failures: never its URL. */
export function deliveryLabel(d: Delivery): string {
  return d.to === 'worker' ? 'GAMEDAY_NOTIFY_URL' : `notify[${d.index}]`;
}
