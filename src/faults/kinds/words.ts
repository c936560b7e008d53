/** Phrases the fault kinds share in their words for people (pure). */
import type { ResolvedTarget } from '../../types';
import { targetRefs } from '../refs';

/** "demo-nats, demo-api": the names of what a target resolved to. */
export function names(target: ResolvedTarget): string {
  return targetRefs(target).map((c) => c.name).join(', ');
}

/** "container demo-nats" or "containers a, b". */
export function containers(target: ResolvedTarget): string {
  return `${targetRefs(target).length === 1 ? 'container' : 'containers'} ${names(target)}`;
}

/** " (30% of connections)", or nothing for all of them. */
export function share(percent: number | undefined): string {
  return percent === undefined || percent === 100 ? '' : ` (${percent}% of connections)`;
}

/** "every request" or "30% of requests". */
export function requests(percent: number | undefined): string {
  return percent === undefined ? 'every request' : `${percent}% of requests`;
}

/** The direction of a toxic's stream, downstream unless upstream. */
export function flow(direction: 'downstream' | 'upstream' | undefined): string {
  return direction === 'upstream' ? 'upstream' : 'downstream';
}

/** One command per resolved ref, joined with "; ". */
export function eachRef(target: ResolvedTarget, command: (name: string) => string): string {
  return targetRefs(target).map((c) => command(c.name)).join('; ');
}
