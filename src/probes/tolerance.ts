import type { Tolerance } from '../spec/schema';
import type { ExpectationResult, Measurement } from '../types';

/** "at most 5", "between 1 and 3 and matches /ok/": a tolerance in words, for reports. */
export function describeTolerance(t: Tolerance): string {
  const parts: string[] = [];
  if (t.equals !== undefined) parts.push(`equals ${JSON.stringify(t.equals)}`);
  if (t.atLeast !== undefined) parts.push(`at least ${t.atLeast}`);
  if (t.atMost !== undefined) parts.push(`at most ${t.atMost}`);
  if (t.between !== undefined) parts.push(`between ${t.between[0]} and ${t.between[1]}`);
  if (t.regex !== undefined) parts.push(`matches /${t.regex}/`);
  return parts.join(' and ');
}

/** True when the value meets every part of the tolerance. A missing value meets none. */
export function withinTolerance(t: Tolerance, value: number | string | boolean | undefined): boolean {
  if (value === undefined) return false;
  if (t.equals !== undefined && value !== t.equals) return false;
  const needsNumber = t.atLeast !== undefined || t.atMost !== undefined || t.between !== undefined;
  if (needsNumber) {
    if (typeof value !== 'number' || Number.isNaN(value)) return false;
    if (t.atLeast !== undefined && value < t.atLeast) return false;
    if (t.atMost !== undefined && value > t.atMost) return false;
    if (t.between !== undefined && (value < t.between[0] || value > t.between[1])) return false;
  }
  if (t.regex !== undefined && !new RegExp(t.regex).test(String(value))) return false;
  return true;
}

/** Judges every expectation of a check against one measurement. */
export function judge(expect: Record<string, Tolerance> | undefined, measurement: Measurement, error: string): ExpectationResult[] {
  return Object.entries(expect ?? {}).map(([field, tolerance]) => {
    const value = measurement[field];
    const observed = value === undefined ? (error ? `no value (${error})` : 'no value') : JSON.stringify(value);
    return { field, expected: describeTolerance(tolerance), observed, ok: withinTolerance(tolerance, value) };
  });
}
