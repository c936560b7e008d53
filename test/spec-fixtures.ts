import assert from 'node:assert/strict';
import { InvalidExperimentError, type SpecProblem } from '../src/errors';
import { parseExperiment } from '../src/spec/loader';

/** The smallest experiment that validates (a pause of demo-nats), with `fields` added or replaced. */
export function minimalExperiment(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'minimal',
    title: 'a minimal pause',
    hypothesis: 'it comes back',
    targets: { nats: { kind: 'docker', container: 'demo-nats' } },
    steadyState: [{ name: 'up', probe: { kind: 'http', url: 'http://127.0.0.1:1/' }, expect: { status: { equals: 200 } } }],
    method: [{ fault: { kind: 'docker-pause', target: 'nats' }, duration: '5s' }],
    ...fields,
  };
}

/** The problems parseExperiment reports for a document it must reject. */
export function experimentProblems(doc: unknown, file: string): SpecProblem[] {
  try {
    parseExperiment(doc, file);
  } catch (e) {
    assert.ok(e instanceof InvalidExperimentError, String(e));
    return e.problems;
  }
  assert.fail('expected the document to be rejected, but it validated');
}
