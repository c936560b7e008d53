import type { PlannedFault, ResolvedTarget, TargetRef } from '../types';

/** What a target resolved to, whether recorded as `refs` or, before, as `containers`. Pure. */
export function targetRefs(target: Pick<ResolvedTarget, 'refs' | 'containers'>): TargetRef[] {
  return target.refs ?? target.containers ?? [];
}

/** The tag the fault's leftovers carry (see faultTag); the fault id for runs recorded before tags. Pure. */
export function tagOf(planned: Pick<PlannedFault, 'tag' | 'id'>): string {
  return planned.tag ?? planned.id;
}
