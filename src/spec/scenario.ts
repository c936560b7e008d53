import { z } from 'zod';
import { scheduleSchema } from './schedule';
import { boundedList, stageDelay } from './limits';
import { experimentSchema } from './schema';

const stageName = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected lower-case letters, digits and dashes, e.g. nats-down' });

/**
 * One stage of a scenario: an experiment (by catalog id, or inline) run as a child workflow.
 * It starts after the previous stage ends (the default), after named stages end (`startAfter`,
 * a DAG; `[]` starts at once), or while another stage runs (`startDuring`: that long after it
 * started, its fault still in place).
 */
export const stageSchema = z
  .strictObject({
    name: stageName,
    experiment: z.string().min(1).optional(),
    spec: experimentSchema.optional(),
    startAfter: boundedList(stageName, 'stages').optional(),
    startDuring: z.strictObject({ stage: stageName, delay: stageDelay }).optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.experiment === undefined) === (s.spec === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of experiment (a catalog id) or spec (inline)' });
    if (s.startAfter && s.startDuring) ctx.addIssue({ code: 'custom', path: ['startDuring'], message: 'give startAfter or startDuring, not both' });
  });

/** A cascading failure: experiments chained in series, in parallel, or as a DAG. */
export const scenarioSchema = z
  .strictObject({
    kind: z.literal('scenario'),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected lower-case letters, digits and dashes' }),
    title: z.string().min(1),
    description: z.string().optional(),
    hypothesis: z.string().trim().min(1, { error: 'a scenario states its hypothesis before it runs' }),
    stages: boundedList(stageSchema, 'stages', { min: 1, minError: 'a scenario needs at least one stage' }),
    /** What a stage that fails, aborts or cannot run does to the stages not yet started. */
    onStageFailure: z.enum(['stop', 'continue']).optional(),
    /** Run the whole scenario this many times (a soak); each run continues as new. */
    repeat: z.int().min(1).max(1000).optional(),
    /** When `gameday schedule sync` makes a Temporal Schedule run it (see src/spec/schedule.ts). */
    schedule: scheduleSchema.optional(),
  })
  .superRefine((sc, ctx) => {
    const names = sc.stages.map((s) => s.name);
    sc.stages.forEach((s, i) => {
      if (names.indexOf(s.name) !== i) ctx.addIssue({ code: 'custom', path: ['stages', i, 'name'], message: `stage name '${s.name}' is used twice` });
      for (const [j, dep] of (s.startAfter ?? []).entries()) {
        if (!names.includes(dep)) ctx.addIssue({ code: 'custom', path: ['stages', i, 'startAfter', j], message: `no stage named '${dep}' (stages: ${names.join(', ')})` });
      }
      if (s.startDuring && !names.includes(s.startDuring.stage)) {
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'startDuring', 'stage'], message: `no stage named '${s.startDuring.stage}' (stages: ${names.join(', ')})` });
      }
    });
    const cycle = findCycle(sc.stages.map((s, i) => ({ name: s.name, deps: dependencies(s, i > 0 ? sc.stages[i - 1].name : undefined) })));
    if (cycle) ctx.addIssue({ code: 'custom', path: ['stages'], message: `the stages wait for each other in a cycle: ${cycle.join(' → ')}` });
  });

export type Scenario = z.infer<typeof scenarioSchema>;
export type Stage = z.infer<typeof stageSchema>;

/** The stages a stage waits for: its startAfter, its startDuring stage, or else the previous one. */
export function dependencies(stage: Stage, previous: string | undefined): string[] {
  if (stage.startAfter) return stage.startAfter;
  if (stage.startDuring) return [stage.startDuring.stage];
  return previous ? [previous] : [];
}

function findCycle(graph: { name: string; deps: string[] }[]): string[] | undefined {
  const deps = new Map(graph.map((g) => [g.name, g.deps]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const d of deps.get(name) ?? []) {
      const c = visit(d, [...path, name]);
      if (c) return c;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const g of graph) {
    const c = visit(g.name, []);
    if (c) return c;
  }
  return undefined;
}
