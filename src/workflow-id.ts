/** A workflow id people can read and sort: `<experiment>-<UTC time>-<4 random hex>`. */
export function newWorkflowId(experimentId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${experimentId}-${stamp}-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`;
}
