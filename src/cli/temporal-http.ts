import http from 'node:http';
import type https from 'node:https';
import { hostname } from 'node:os';

/**
 * The calls `gameday run` makes, through Temporal's HTTP API (the frontend's `/api/v1`, the same
 * service as gRPC through Temporal's own gateway) rather than the SDK's gRPC client: a CLI that
 * starts a run and waits for it then loads neither grpc-js nor protobufjs, most of its start-up.
 * Payloads travel as protobuf's canonical JSON (`application/json+no-payload-shorthand`), each one
 * `json/plain` as the SDK's default converter writes them: the API's default shorthand turns an
 * empty list inside a payload into null.
 * https://docs.temporal.io/references/http-api (not every server enables it: see Config.temporalHttpUrl).
 */

/** The media type of canonical protobuf JSON, payloads included. */
const MEDIA = 'application/json+no-payload-shorthand';

/** A payload in canonical JSON: base64 metadata and data. */
export interface HttpPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const JSON_PLAIN = b64('json/plain');

/** A value as a `json/plain` payload (undefined as the SDK's `binary/null`). */
export function toPayload(value: unknown): HttpPayload {
  if (value === undefined) return { metadata: { encoding: b64('binary/null') } };
  return { metadata: { encoding: JSON_PLAIN }, data: b64(JSON.stringify(value)) };
}

/** A payload's value: JSON is parsed, `binary/null` is undefined; any other encoding is an error. */
export function fromPayload(p: HttpPayload | undefined): unknown {
  if (!p) return undefined;
  const encoding = Buffer.from(p.metadata?.encoding ?? '', 'base64').toString('utf8');
  if (encoding === 'binary/null') return undefined;
  if (encoding !== 'json/plain') throw new Error(`a payload encoded as '${encoding}', not json/plain`);
  return JSON.parse(Buffer.from(p.data ?? '', 'base64').toString('utf8'));
}

const firstOf = (ps?: { payloads?: HttpPayload[] }): unknown => fromPayload(ps?.payloads?.[0]);

/** An answer of the HTTP API other than 2xx: its gRPC code and message (6 ALREADY_EXISTS, 5 NOT_FOUND, ...). */
export class TemporalHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TemporalHttpError';
  }
}

/** Nothing answered at the URL (refused, no route): the caller may use gRPC instead. */
export class TemporalHttpUnreachable extends Error {
  constructor(url: string, cause: Error) {
    super(`nothing answers at Temporal's HTTP API ${url} (${cause.message})`, { cause });
    this.name = 'TemporalHttpUnreachable';
  }
}

/** The start of a workflow: the values, made payloads by `start`. */
export interface HttpStart {
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  input: unknown[];
  workflowTaskTimeout?: string;
  memo?: Record<string, unknown>;
  summary?: string;
  details?: string;
}

/** A history event as the API gives it; only the fields the CLI reads. */
export interface HttpEvent {
  eventType: string;
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: HttpPayload[] } };
  workflowExecutionFailedEventAttributes?: { failure?: { message?: string; cause?: { message?: string } } };
  workflowExecutionTimedOutEventAttributes?: object;
  workflowExecutionTerminatedEventAttributes?: { reason?: string };
  workflowExecutionCanceledEventAttributes?: object;
  workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string };
}

/** The parts of DescribeWorkflowExecution the CLI reads. */
export interface HttpDescription {
  executionConfig?: { taskQueue?: { name?: string } };
  pendingActivities?: { heartbeatDetails?: { payloads?: HttpPayload[] } }[];
}

const TRANSIENT = new Set(['ECONNRESET', 'EPIPE']);
/** How long the wait for a run's end rides out a server that does not answer (a restart of the dev server, say). */
const WAIT_OUTAGE_MS = 120_000;

/** An error Temporal itself answered with (its JSON, with a gRPC status code), as opposed to a failure to reach it. */
export function isTemporalAnswer(e: unknown): e is TemporalHttpError {
  return e instanceof TemporalHttpError && e.code !== undefined;
}

/** A failure a retry may cure: nothing answers, a dropped connection, or Temporal saying it is unavailable (14). */
function passing(e: unknown): boolean {
  if (e instanceof TemporalHttpUnreachable || TRANSIENT.has((e as NodeJS.ErrnoException).code ?? '')) return true;
  return e instanceof TemporalHttpError && (e.code === 14 || e.status === 502 || e.status === 503);
}

export class TemporalHttp {
  readonly #base: URL;
  readonly #namespace: string;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  constructor(baseUrl: string, namespace: string) {
    this.#base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    this.#namespace = namespace;
    // TLS loaded only for an https URL: the local stack's is plain.
    const secure: typeof https | undefined = this.#base.protocol === 'https:' ? (require('node:https') as typeof https) : undefined;
    this.#agent = secure ? new secure.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    this.#request = secure ? secure.request : http.request;
  }

  get url(): string {
    return this.#base.origin;
  }

  /** Starts a workflow; its run id. */
  async start(s: HttpStart): Promise<string> {
    const body = {
      workflowType: { name: s.workflowType },
      taskQueue: { name: s.taskQueue },
      input: { payloads: s.input.map(toPayload) },
      ...(s.workflowTaskTimeout ? { workflowTaskTimeout: s.workflowTaskTimeout } : {}),
      ...(s.memo ? { memo: { fields: Object.fromEntries(Object.entries(s.memo).map(([k, v]) => [k, toPayload(v)])) } } : {}),
      ...(s.summary !== undefined || s.details !== undefined ? { userMetadata: { summary: toPayload(s.summary), details: toPayload(s.details) } } : {}),
      identity: `${process.pid}@${hostname()}`,
      requestId: `${s.workflowId}-${process.pid}-${Date.now()}`,
    };
    const answer = await this.#call<{ runId: string }>('POST', `workflows/${encodeURIComponent(s.workflowId)}`, body);
    return answer.runId;
  }

  /**
   * The run's close event: a long poll (the server answers when the run closes, or after its
   * long-poll timeout with a page token to poll again). A run that continued as new is followed.
   */
  async closeEvent(workflowId: string, runId?: string, outageMs = WAIT_OUTAGE_MS): Promise<HttpEvent> {
    let run = runId;
    let token: string | undefined;
    // Since when the server has not answered; the wait gives up after outageMs of it, as the SDK's retries do.
    let failingSince: number | undefined;
    for (;;) {
      const q = new URLSearchParams({ waitNewEvent: 'true', historyEventFilterType: 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT', skipArchival: 'true' });
      if (run) q.set('execution.runId', run);
      if (token) q.set('nextPageToken', token);
      let page: { history?: { events?: HttpEvent[] }; nextPageToken?: string };
      try {
        page = await this.#call('GET', `workflows/${encodeURIComponent(workflowId)}/history?${q}`);
        failingSince = undefined;
      } catch (e) {
        failingSince ??= Date.now();
        if (!passing(e) || Date.now() - failingSince > outageMs) throw e;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const event = page.history?.events?.[0];
      if (event?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId) {
        run = event.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId;
        token = undefined;
        continue;
      }
      if (event) return event;
      token = page.nextPageToken || undefined;
    }
  }

  /** A query's answer (its first payload). */
  async query<T>(workflowId: string, queryType: string, args: unknown[], signal?: AbortSignal): Promise<T> {
    const answer = await this.#call<{ queryResult?: { payloads?: HttpPayload[] }; queryRejected?: { status?: string } }>(
      'POST',
      `workflows/${encodeURIComponent(workflowId)}/query/${encodeURIComponent(queryType)}`,
      { query: { queryArgs: { payloads: args.map(toPayload) } } },
      signal,
    );
    if (answer.queryRejected) throw new TemporalHttpError(200, undefined, `query ${queryType} rejected: the run is ${answer.queryRejected.status}`);
    return firstOf(answer.queryResult) as T;
  }

  async describe(workflowId: string): Promise<HttpDescription> {
    return this.#call<HttpDescription>('GET', `workflows/${encodeURIComponent(workflowId)}`);
  }

  /** The first heartbeat payload of each pending activity, decoded; what is not JSON is left out. */
  static heartbeats(d: HttpDescription): unknown[] {
    return (d.pendingActivities ?? []).flatMap((a) => {
      try {
        const h = firstOf(a.heartbeatDetails);
        return h === undefined ? [] : [h];
      } catch {
        return [];
      }
    });
  }

  /** The result of a completed run's close event. */
  static result(e: HttpEvent): unknown {
    return firstOf(e.workflowExecutionCompletedEventAttributes?.result);
  }

  /** How many workers poll the task queue for workflow tasks. */
  async workflowPollers(taskQueue: string): Promise<number> {
    const answer = await this.#call<{ pollers?: unknown[] }>('GET', `task-queues/${encodeURIComponent(taskQueue)}?taskQueueType=TASK_QUEUE_TYPE_WORKFLOW`);
    return answer.pollers?.length ?? 0;
  }

  /** Closes the kept connections, so that the process can exit at once. */
  close(): void {
    this.#agent.destroy();
  }

  async #call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    try {
      return await this.#once<T>(method, path, body, signal);
    } catch (e) {
      // A kept connection the server closed between two calls: once more on a new one.
      if (!TRANSIENT.has((e as NodeJS.ErrnoException).code ?? '') || signal?.aborted) throw e;
      return this.#once<T>(method, path, body, signal);
    }
  }

  #once<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const url = new URL(`api/v1/namespaces/${encodeURIComponent(this.#namespace)}/${path}`, this.#base);
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = this.#request(url, {
        method,
        agent: this.#agent,
        signal,
        headers: { accept: MEDIA, ...(data ? { 'content-type': MEDIA, 'content-length': Buffer.byteLength(data) } : {}) },
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND' ? new TemporalHttpUnreachable(this.url, e) : e));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: { code?: number; message?: string } | undefined;
          try {
            json = text ? JSON.parse(text) : {};
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && json) return resolve(json as T);
          reject(new TemporalHttpError(status, json?.code, json?.message ?? `HTTP ${status} from ${url.origin}: ${text.slice(0, 200) || 'no body'}`));
        });
      });
      req.end(data);
    });
  }
}
