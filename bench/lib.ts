/**
 * What every part of the bench shares: percentiles, the machine and commit a figure was measured
 * on, results.json written one part's key at a time, sizes from the environment, and a hard
 * timeout per part.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository's root (the bench runs from dist/bench). */
export const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results.json');

/** The p-th percentile (nearest rank) of the values, rounded to 0.1; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round(sorted[rank]);
}

/** Rounded to one decimal. */
export function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** p50, p95, p99 and max of a list of measurements, and how many there were. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The usual percentiles of `values` (NaN, written as null in JSON, when empty). */
export function summarize(values: number[]): Summary {
  return { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: percentile(values, 100) };
}

/** A measurement beside its target. `met` is null when the figure could not be measured. */
export interface Targeted {
  value: number | null;
  target: string;
  met: boolean | null;
}

/** `value` against `limit` (met when strictly below), with the target in words. */
export function below(value: number | undefined, limit: number, unit: string): Targeted {
  const measured = value !== undefined && Number.isFinite(value);
  return { value: measured ? value : null, target: `< ${limit} ${unit}`, met: measured ? value < limit : null };
}

/** When, where and on what code a part was measured. */
export interface RunContext {
  date: string;
  /** HEAD, `+dirty` when the tree had changes. */
  commit: string;
  /** The last commit that changed what is measured (workflows/, activities/, src/). */
  codeCommit: string;
  machine: { cpus: number; loadAverageAtStart: number[]; memoryGiB: number; node: string };
}

/** The date, the git commit (with `+dirty` when the tree has changes) and the machine, now. */
export async function runContext(): Promise<RunContext> {
  const git = async (...args: string[]): Promise<string> => (await run('git', args, { cwd: ROOT })).stdout.trim();
  const commit = await git('rev-parse', '--short', 'HEAD').catch(() => 'unknown');
  const dirty = (await git('status', '--porcelain', '--untracked-files=no').catch(() => '')) !== '';
  const code = await git('log', '-1', '--format=%h', '--', 'workflows', 'activities', 'src').catch(() => 'unknown');
  const codeDirty = (await git('status', '--porcelain', '--untracked-files=no', '--', 'workflows', 'activities', 'src').catch(() => '')) !== '';
  return {
    date: new Date().toISOString(),
    commit: dirty ? `${commit}+dirty` : commit,
    codeCommit: codeDirty ? `${code}+dirty` : code,
    machine: { cpus: os.cpus().length, loadAverageAtStart: os.loadavg().map(round), memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  };
}

/** bench/results.json as it is now. */
export async function readResults(): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(RESULTS, 'utf8').catch(() => '{}')) as Record<string, unknown>;
}

/**
 * Writes one part's keys in bench/results.json, keeping every other key as the last run of its
 * part left it.
 */
export async function writeResults(entries: Record<string, unknown>): Promise<void> {
  const current = await readResults();
  Object.assign(current, entries);
  await writeFile(RESULTS, JSON.stringify(current, null, 2) + '\n');
}

/** A comma-separated list of numbers from the environment, or the default. */
export function envNumbers(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`${name}=${raw}: expected positive numbers separated by commas`);
  return values;
}

/** A positive number from the environment, or the default. */
export function envNumber(name: string, fallback: number): number {
  return envNumbers(name, [fallback])[0];
}

/** Rejects when `work` takes longer than `ms`: no part of the bench runs unbounded. */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: gave up after ${ms / 1000} s (the part's hard timeout)`)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A progress line on stderr. */
export function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
