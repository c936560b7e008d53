import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import ms from 'ms';
import type { z } from 'zod';
import { FailureType, GamedayError, InvalidExperimentError, type SpecProblem } from '../errors';
import type { ExperimentPlan } from '../types';
import { malformedReferences } from '../secrets';
import { documentProblems, parseDocument, tooBig } from './document';
import { DEFAULTS, LIMITS } from './limits';
import type * as ScenarioSpec from './scenario';
import type { Scenario } from './scenario';
import { experimentSchema, type Experiment } from './schema';

/** Milliseconds in a duration the schema has already validated ("30s" → 30000). */
export function durationMs(d: string): number {
  const value: unknown = ms(d as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`not a duration: ${d}`);
  return value;
}

function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? `"${value}"` : String(value);
}

const EXPECTED: Record<string, string> = {
  record: 'a map of names to settings',
  object: 'an object',
  array: 'a list',
  tuple: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
};

/**
 * Messages in plain words for the issues zod words in its own terms ("expected record, received
 * undefined"). The schema's own messages take precedence over these.
 */
function plainMessage(iss: z.core.$ZodRawIssue): string | undefined {
  const input: unknown = iss.input;
  switch (iss.code) {
    case 'invalid_type': {
      if (input === undefined) return 'required';
      const parent = iss.path?.[iss.path.length - 2];
      if ((parent === 'expect' || parent === 'abortWhen') && iss.expected === 'object') {
        const hint = typeof input === 'number' ? `{ equals: ${input} } or { atMost: ${input} }` : `{ equals: ${typeof input === 'string' ? shown(input) : 'value'} }`;
        return `a tolerance is an object, not ${shown(input)}: write ${hint}`;
      }
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${shown(input)}`;
    }
    case 'invalid_union': {
      const disc = (iss as { discriminator?: string; options?: unknown[] }).discriminator;
      if (!disc) return undefined;
      const options = ((iss as { options?: unknown[] }).options ?? []).map(String).join(', ');
      const value = (input as Record<string, unknown> | undefined)?.[disc];
      return value === undefined ? `required: one of ${options}` : `unknown ${disc} ${shown(value)}: expected one of ${options}`;
    }
    case 'invalid_value':
      if (input === undefined) return `required: ${iss.values.map((v) => shown(v)).join(' or ')}`;
      return `${shown(input)} is not one of ${iss.values.map((v) => shown(v)).join(', ')}`;
    case 'invalid_key':
      return `invalid name ${shown(input)}: use letters, digits, dashes and underscores`;
    case 'too_small':
    case 'too_big':
      if (iss.origin === 'array' && iss.path?.[iss.path.length - 1] === 'between') return 'between takes two numbers: [min, max]';
      return undefined;
    default:
      return undefined;
  }
}

/** Turns zod issues into problems that name the file, the field path and the problem. */
export function problemsFromZod(file: string, error: z.ZodError): SpecProblem[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    // zod reports unknown keys on their parent; a user looks for the key itself.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ file, path: [...at, key].join('.'), message: 'unknown field (misspelt, or not part of this object)' }));
    }
    return [{ file, path: at.join('.'), message: issue.message }];
  });
}

export { parseDocument };

/**
 * zod compiles a parser for each object schema at its first parse (`new Function`, which no code
 * cache keeps); a document is parsed once, and walking it without that is cheaper: about 5 ms of
 * `gameday run`'s start. The checks and messages are the same either way.
 */
const JITLESS = true;

/** A spec sent inline (not read from a file) is held to the same bounds before zod walks it. */
function checkDocument(doc: unknown, file: string): void {
  const problems = documentProblems(doc, file);
  if (problems.length > 0) throw new InvalidExperimentError(problems);
}

/** zod's verdict on a document, with its malformed secret references added: every problem at once. */
function validated<T>(result: z.ZodSafeParseResult<T>, doc: unknown, file: string): T {
  const problems = [...(result.success ? [] : problemsFromZod(file, result.error)), ...malformedReferences(doc).map((p) => ({ file, ...p }))];
  if (problems.length > 0 || !result.success) throw new InvalidExperimentError(problems);
  return result.data;
}

/**
 * Validates a parsed document as an experiment.
 * @throws InvalidExperimentError listing every problem at once.
 */
export function parseExperiment(doc: unknown, file = '<input>'): Experiment {
  checkDocument(doc, file);
  return validated(experimentSchema.safeParse(doc, { error: plainMessage, jitless: JITLESS }), doc, file);
}

/** Reads and validates one experiment file. */
export async function loadExperimentFile(file: string): Promise<Experiment> {
  return parseExperiment(await readDocument(file), file);
}

/** An experiment with its defaults filled in and its durations in milliseconds. */
export function planExperiment(spec: Experiment, source: string): ExperimentPlan {
  return {
    spec,
    source,
    timing: {
      faultMs: spec.method.map((step) => durationMs(step.duration)),
      observeIntervalMs: durationMs(spec.observe?.interval ?? DEFAULTS.observeInterval),
      recoveryWithinMs: durationMs(spec.recovery?.within ?? DEFAULTS.recoveryWithin),
      recoveryIntervalMs: durationMs(spec.recovery?.interval ?? DEFAULTS.recoveryInterval),
      ...(spec.recovery?.after ? { recoveryAfterMs: durationMs(spec.recovery.after) } : {}),
      guardrailIntervalMs: (spec.guardrails ?? []).map((g) => durationMs(g.interval ?? DEFAULTS.guardrailInterval)),
      lockWaitMs: durationMs(spec.lock?.waitAtMost ?? DEFAULTS.lockWait),
    },
  };
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

type Kind = 'experiment' | 'scenario';

/** A document is a scenario when it says `kind: scenario`; anything else is read as an experiment. */
export function kindOf(doc: unknown): Kind {
  return (doc as { kind?: unknown } | null)?.kind === 'scenario' ? 'scenario' : 'experiment';
}

/** Reads a file's document; a missing, empty or oversized file is a problem naming it. */
async function readDocument(file: string): Promise<unknown> {
  const unreadable = (e: unknown): InvalidExperimentError =>
    new InvalidExperimentError([{ file, path: '', message: `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  // Checked before reading, so that a huge file is never read into memory.
  const { size } = await stat(file).catch((e: unknown) => Promise.reject(unreadable(e)));
  if (size > LIMITS.fileBytes) throw new InvalidExperimentError([{ file, path: '', message: tooBig(size) }]);
  const text = await readFile(file, 'utf8').catch((e: unknown) => Promise.reject(unreadable(e)));
  const doc = parseDocument(text, file);
  if (doc === null || doc === undefined) throw new InvalidExperimentError([{ file, path: '', message: 'the file is empty' }]);
  return doc;
}

/** Validates a parsed document as a scenario. @throws InvalidExperimentError listing every problem. */
export function parseScenario(doc: unknown, file = '<input>'): Scenario {
  checkDocument(doc, file);
  // Built when a scenario is first read: `gameday run` of an experiment file never builds it.
  const { scenarioSchema } = require('./scenario') as typeof ScenarioSpec;
  return validated(scenarioSchema.safeParse(doc, { error: plainMessage, jitless: JITLESS }), doc, file);
}

/** Reads and validates a file of either kind. */
export async function loadSpecFile(file: string): Promise<{ kind: 'experiment'; spec: Experiment } | { kind: 'scenario'; spec: Scenario }> {
  const doc = await readDocument(file);
  return kindOf(doc) === 'scenario' ? { kind: 'scenario', spec: parseScenario(doc, file) } : { kind: 'experiment', spec: parseExperiment(doc, file) };
}

/**
 * Finds a document of one kind by id in a catalog folder: `<dir>/<id>.yaml|yml|json` first, else
 * any file there whose `id` matches.
 * @throws GamedayError ExperimentNotFound naming the folder and the ids it holds.
 */
async function findInCatalog(dir: string, id: string, kind: Kind): Promise<{ doc: unknown; file: string }> {
  for (const ext of EXTENSIONS) {
    const file = path.join(dir, id + ext);
    if (!existsSync(file)) continue;
    const doc = await readDocument(file);
    const docId = (doc as { id?: unknown }).id;
    if (kindOf(doc) !== kind) continue;
    if (docId !== id) throw new InvalidExperimentError([{ file, path: 'id', message: `the file is named after '${id}' but its id is '${String(docId)}'` }]);
    return { doc, file };
  }
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => EXTENSIONS.includes(path.extname(f)));
  const ids: string[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    try {
      const doc = parseDocument(await readFile(file, 'utf8'), file) as { id?: unknown } | null;
      if (!doc || kindOf(doc) !== kind) continue;
      if (typeof doc.id === 'string') ids.push(doc.id);
      if (doc.id === id) return { doc, file };
    } catch {
      // A broken file elsewhere in the catalog must not hide the one asked for.
    }
  }
  throw new GamedayError(FailureType.ExperimentNotFound, `no ${kind} '${id}' in ${dir} (it holds: ${ids.join(', ') || 'none'})`);
}

/** Finds an experiment by id in a catalog folder (see findInCatalog). */
export async function findExperiment(dir: string, id: string): Promise<{ spec: Experiment; file: string }> {
  const { doc, file } = await findInCatalog(dir, id, 'experiment');
  return { spec: parseExperiment(doc, file), file };
}

/** Finds a scenario by id in a catalog folder (see findInCatalog). */
export async function findScenario(dir: string, id: string): Promise<{ spec: Scenario; file: string }> {
  const { doc, file } = await findInCatalog(dir, id, 'scenario');
  return { spec: parseScenario(doc, file), file };
}
