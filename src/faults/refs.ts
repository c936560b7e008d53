import type { ResolvedTarget, TargetRef } from '../types';

/** What a target resolved to, whether recorded as `refs` or, before, as `containers`. Pure. */
export function targetRefs(target: Pick<ResolvedTarget, 'refs' | 'containers'>): TargetRef[] {
  return target.refs ?? target.containers ?? [];
}
