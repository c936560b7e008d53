import type { NotifyEvent, NotifyFormat, NotifyTrigger } from './rules';

/** What a notification says, without where it goes: it may be written into a workflow's history. */
export interface Notice {
  event: NotifyEvent;
  experimentId: string;
  title: string;
  workflowId: string;
  runId: string;
  trigger: NotifyTrigger;
  /** The verdict's reason, or the failing revert's last error. */
  reason: string;
  /** Where the worker wrote the report (report.md in it); absent for a rollback still failing. */
  reportDir?: string;
  /** `complete`, `incomplete` or `nothing-injected`; absent for a rollback still failing. */
  rollback?: string;
  /** The fault whose revert keeps failing (rollbackFailing only). */
  fault?: { id: string; description: string; attempts: number; since: string };
  at: string;
}

/** The JSON format's body: the object documented in the README's Notifications section. */
export interface JsonNotification extends Notice {
  kind: 'gameday.notification';
  version: 1;
  /** The run's page in the Temporal Web UI. */
  temporalUrl: string;
  /** The Markdown report's path on the worker that wrote it. */
  reportPath?: string;
}

/** The run's page in the Temporal Web UI. */
export function runUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function headline(n: Notice): string {
  if (n.event === 'rollbackFailing') return `ROLLBACK FAILING: ${n.title || n.experimentId}`;
  return `Experiment ${n.event}: ${n.title || n.experimentId}`;
}

function detail(n: Notice): string {
  if (n.event === 'rollbackFailing' && n.fault) return `the revert of ${n.fault.description} has failed ${n.fault.attempts} times since ${n.fault.since} and is still being retried: ${n.reason}`;
  return n.reason;
}

/** A Slack incoming-webhook message: the text for notifications, blocks for the channel. */
function slack(n: Notice, link: string, reportPath: string | undefined): Record<string, unknown> {
  const text = `${headline(n)} (${n.workflowId})`;
  const fields = [
    `*Experiment:* ${n.experimentId}`,
    `*Workflow:* <${link}|${n.workflowId}>`,
    `*Started by:* ${n.trigger}`,
    ...(n.rollback ? [`*Rollback:* ${n.rollback}`] : []),
    ...(reportPath ? [`*Report:* \`${reportPath}\``] : []),
  ];
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${headline(n)}*\n${detail(n)}` } },
      { type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: f })) },
    ],
  };
}

/** The request body of a notification in the webhook's format. */
export function renderNotice(n: Notice, format: NotifyFormat, ui: { uiUrl: string; namespace: string }): Record<string, unknown> {
  const link = runUrl(ui.uiUrl, ui.namespace, n.workflowId);
  const reportPath = n.reportDir ? `${n.reportDir.replace(/\/+$/, '')}/report.md` : undefined;
  if (format === 'slack') return slack(n, link, reportPath);
  const body: JsonNotification = { kind: 'gameday.notification', version: 1, ...n, temporalUrl: link, ...(reportPath ? { reportPath } : {}) };
  return body as unknown as Record<string, unknown>;
}
