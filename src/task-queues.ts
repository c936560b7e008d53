/**
 * Task queue names. Pure: the workflows import it to send faults to the queue every worker
 * also polls with slots of its own, and a remote host's work to that host's agent.
 */

/**
 * The queue of injects and reverts beside a worker's task queue. A worker polls it with its own
 * activity slots, so a revert never waits for a slot that long-running probes hold.
 */
export function faultQueueOf(taskQueue: string): string {
  return `${taskQueue}-faults`;
}

/**
 * The task queue of a host's agents (`gameday agent --host NAME`): resolving and probing the
 * targets on that host. Its injects and reverts go to `faultQueueOf(hostQueueOf(host))`. Every
 * agent of the host polls both, so whichever is alive takes the work.
 */
export function hostQueueOf(host: string): string {
  return `gameday-host-${host}`;
}
