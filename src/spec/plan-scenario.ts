import type { ScenarioPlan } from '../types';
import { durationMs } from './loader';
import { dependencies, type Scenario } from './scenario';

/** Each stage's experiment input (a catalog id, or its inline spec) and what it waits for. */
export function planStages(spec: Scenario, source: string): ScenarioPlan {
  return {
    spec,
    source,
    stages: spec.stages.map((stage, i) => ({
      name: stage.name,
      input: stage.experiment !== undefined ? { experiment: stage.experiment } : { spec: stage.spec, source: `${source}#${stage.name}` },
      deps: dependencies(stage, i > 0 ? spec.stages[i - 1].name : undefined),
      during: stage.startDuring?.stage,
      duringDelayMs: stage.startDuring ? durationMs(stage.startDuring.delay) : undefined,
    })),
  };
}
