import { condition, patched } from '@temporalio/workflow';

/**
 * patched(id) for a change that only runs started since its marker can use (the input that takes
 * the new path did not exist before it), asked only when the run uses it: such a run always
 * recorded the marker, and this returns once the marker is known.
 *
 * On replay, patched() is true only in the workflow task whose events hold the marker. A run whose
 * task was split after a local activity (the SDK completes the task with the activity's marker and
 * resumes the code after it in the next task) recorded the marker one task later than replay asks;
 * this then waits, with no command, for that task instead of taking the old path and failing the
 * replay with "patch marker … but there is no corresponding change command".
 */
export async function patchedWhenUsed(id: string): Promise<void> {
  if (!patched(id)) await condition(() => patched(id));
}
