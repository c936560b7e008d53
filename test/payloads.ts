import type { temporal } from '@temporalio/proto';

/** Every payload's size in a history: activity inputs and results, heartbeat details, memos, signals, markers. */
export function payloadSizes(events: temporal.api.history.v1.IHistoryEvent[]): number[] {
  const sizes: number[] = [];
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    if ('data' in v && (v as { data?: unknown }).data instanceof Uint8Array && 'metadata' in v) {
      sizes.push((v as { data: Uint8Array }).data.length);
      return;
    }
    for (const child of Object.values(v)) walk(child);
  };
  events.forEach(walk);
  return sizes;
}
