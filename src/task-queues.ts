/**
 * Task queue names. Pure: the workflows import it to send faults to the queue every worker
 * also polls with slots of its own.
 */

/**
 * The queue of injects and reverts beside a worker's task queue. A worker polls it with its own
 * activity slots, so a revert never waits for a slot that long-running probes hold.
 */
export function faultQueueOf(taskQueue: string): string {
  return `${taskQueue}-faults`;
}
