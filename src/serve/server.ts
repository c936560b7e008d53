/**
 * `gameday serve`: the dashboard's routes, on Fastify. It reads the results store and, for the
 * schedules, the Temporal server; it writes nothing and starts nothing.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ScheduleRow } from '../cli/schedule-list';
import type { Config } from '../config';
import { DEFAULT_SCORE_RUNS, readHistory } from '../history';
import { asReported, findStoredRun, unknownRun } from '../report/export';
import { htmlOf, passOverRun } from '../report/stream';
import { ResultsStoreError, ResultsStoreUnreachable } from '../store/errors';
import type { ResultsStore } from '../store/types';
import { errorPage, experimentsPage, runsPage, schedulesPage, type PageLinks } from './pages';
import { BadQuery, historyQuery, runsFilter, scoresQuery } from './query';

/** What the dashboard reads from. */
export interface DashboardDeps {
  config: Pick<Config, 'temporalUiUrl' | 'namespace' | 'resultsUrl' | 'temporalAddress'>;
  store: ResultsStore;
  /** Gameday's schedules from the Temporal server (src/cli/schedule-list.ts). */
  schedules(): Promise<ScheduleRow[]>;
}

/** The dashboard's pages allow inline style, images as data: and forms to itself; no script. */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'";
/** A run's report carries its own inline script (uPlot), and fetches nothing either. */
const REPORT_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'";

type Query = Record<string, string | undefined>;

class NotFound extends Error {}

/** Where the Temporal server cannot be asked: its message says where, and how to start it. */
class TemporalUnreachable extends Error {}

/** The dashboard's Fastify app, routes registered, not listening yet. */
export function buildDashboard(deps: DashboardDeps): FastifyInstance {
  const { config, store } = deps;
  const links: PageLinks = { temporalUi: `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows` };
  const scheduleUrl = (id: string) => `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.namespace)}/schedules/${encodeURIComponent(id)}`;
  // Ctrl-C stops at once: a browser's idle keep-alive connections would otherwise hold the close.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const html = (reply: FastifyReply, page: string, csp = PAGE_CSP) => reply.header('content-security-policy', csp).header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8').send(page);

  const runs = (q: Query) => readHistory(store, config, historyQuery(runsFilter(q))).then((h) => h.runs);
  const scores = async (q: Query) => {
    const s = scoresQuery(q);
    const h = await readHistory(store, config, { ...s, limit: 1 });
    return { scoreRuns: s.scoreRuns ?? DEFAULT_SCORE_RUNS, experiments: h.experiments, systems: h.systems };
  };
  const schedules = () =>
    deps.schedules().catch((e: Error) => {
      throw new TemporalUnreachable(`cannot list the schedules on the Temporal server at ${config.temporalAddress}: ${e.message}`);
    });
  type RunRequest = FastifyRequest<{ Params: { workflowId: string }; Querystring: Query }>;
  const found = <T>(req: RunRequest, value: T | undefined): T => {
    if (value === undefined) throw new NotFound(unknownRun(config.resultsUrl, req.params.workflowId, req.query.runId || undefined).message);
    return value;
  };
  const run = async (req: RunRequest) => found(req, await findStoredRun(store, req.params.workflowId, req.query.runId || undefined));
  // One pass over the run's samples, however long it ran: the page holds its digest and thinned samples, never every sample.
  const reportPage = async (req: RunRequest) => found(req, await store.readRun(req.params.workflowId, req.query.runId || undefined, async (r) => htmlOf(await passOverRun(r, asReported(store)))));

  app.get<{ Querystring: Query }>('/', async (req, reply) => html(reply, runsPage(await runs(req.query), runsFilter(req.query), links)));
  app.get<{ Querystring: Query }>('/api/runs', async (req) => ({ runs: await runs(req.query) }));
  app.get<{ Params: { workflowId: string }; Querystring: Query }>('/runs/:workflowId', async (req, reply) => html(reply, await reportPage(req), REPORT_CSP));
  app.get<{ Params: { workflowId: string }; Querystring: Query }>('/api/runs/:workflowId', run);
  app.get<{ Querystring: Query }>('/experiments', async (req, reply) => {
    const s = await scores(req.query);
    return html(reply, experimentsPage(s.experiments, s.systems, s.scoreRuns, links));
  });
  app.get<{ Querystring: Query }>('/api/experiments', (req) => scores(req.query));
  app.get('/schedules', async (_req, reply) => html(reply, schedulesPage(await schedules(), scheduleUrl, links)));
  app.get('/api/schedules', async () => ({ schedules: await schedules() }));

  app.setNotFoundHandler((req, reply) => fail(req, reply, 404, 'Not found', `no page at ${req.url}`));
  app.setErrorHandler((e: Error, req, reply) => {
    if (e instanceof NotFound) return fail(req, reply, 404, 'Unknown run', e.message);
    if (e instanceof BadQuery) return fail(req, reply, 400, 'Bad filter', e.message);
    // Its message names the store's URL, password masked.
    if (e instanceof ResultsStoreUnreachable) return fail(req, reply, 503, 'Results store unreachable', e.message);
    if (e instanceof ResultsStoreError) return fail(req, reply, 500, 'Results store error', e.message);
    if (e instanceof TemporalUnreachable) return fail(req, reply, 503, 'Temporal server unreachable', e.message);
    return fail(req, reply, 500, 'Dashboard error', e.message);
  });

  function fail(req: FastifyRequest, reply: FastifyReply, status: number, title: string, message: string) {
    reply.code(status);
    if (req.url.startsWith('/api/')) return reply.send({ error: message });
    return html(reply, errorPage(title, message, links));
  }
  return app;
}

/** Where the dashboard listens. */
export interface ListenOptions {
  host: string;
  port: number;
}

/**
 * Listens on host:port and returns the dashboard's URL.
 * @throws Error saying the port is taken (and how to pick another) or the host cannot be bound.
 */
export async function listenDashboard(app: FastifyInstance, opts: ListenOptions): Promise<string> {
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new Error(`cannot serve the dashboard: port ${opts.port} on ${opts.host} is already in use; pick another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new Error(`cannot serve the dashboard: --host ${opts.host} is not an address of this machine`);
    throw new Error(`cannot serve the dashboard on ${opts.host}:${opts.port}: ${(e as Error).message}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return `http://${host}:${port}/`;
}
