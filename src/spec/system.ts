import type { Experiment } from './schema';

/**
 * The target system an experiment tests, by which runs are scored together: the file's `system`
 * when it names one; otherwise the dash-separated prefix its Docker targets' container names share
 * (`demo-target-nats` and `demo-target-api` → `demo-target`; one container: its name without its
 * last part, `demo-target-nats` → `demo-target`); otherwise (no container named, or nothing shared)
 * the experiment's own id, so that it is a system of its own rather than lumped with others.
 * Pure: the results store calls it on every run's spec.
 */
export function targetSystemOf(spec: Pick<Experiment, 'id' | 'targets'> & { system?: string }): string {
  if (spec.system) return spec.system;
  const names = Object.values(spec.targets).flatMap((t) => (t.kind === 'docker' && t.container ? [t.container.split('-')] : []));
  if (names.length === 0) return spec.id;
  let shared = names[0].length === 1 ? names[0] : names[0].slice(0, -1);
  for (const parts of names.slice(1)) {
    let n = 0;
    while (n < shared.length && n < parts.length && shared[n] === parts[n]) n++;
    shared = shared.slice(0, n);
  }
  return shared.length > 0 ? shared.join('-') : spec.id;
}
