'use strict';
// The external "scoring" dependency (the reference system's LLM API): POST /score {text} → {score},
// a number in [0, 1) derived from the text.
//
// Injected failures, for experiments: Gameday's HTTP fault endpoint (README: the http target), on
// an admin listener of its own port (ADMIN_PORT, 8092), which the demo publishes on 127.0.0.1 only
// and which no other service is configured to call:
//   PUT /fault {status?, delayMs?, percent?, tag?}   from now on, `percent` (default 100) of /score
//                                                     requests wait `delayMs`, then answer `status`
//                                                     (a 4xx/5xx) or, without one, the normal score
//   DELETE /fault                                     back to normal
//   GET /fault                                        the fault in place (null when none)
const { log, sleep, readJson, sendJson, serve } = require('./lib');

const PORT = Number(process.env.PORT ?? 8082);
const ADMIN_PORT = Number(process.env.ADMIN_PORT ?? 8092);
const counters = { requests: 0, faulted: 0 };
let fault = null;

function scoreOf(text) {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.codePointAt(0)) % 10_007;
  return Math.round((h / 10_007) * 1000) / 1000;
}

/** A fault from a PUT /fault body, or an error message naming the field. */
function parseFault(body) {
  const { status, delayMs = 0, percent = 100, tag } = body;
  if (status !== undefined && !(Number.isInteger(status) && status >= 400 && status <= 599)) return 'status: an HTTP error status (400–599) is required';
  if (!(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= 600_000)) return 'delayMs: a number of milliseconds between 0 and 600000 is required';
  if (!(Number.isFinite(percent) && percent > 0 && percent <= 100)) return 'percent: a number in (0, 100] is required';
  if (tag !== undefined && typeof tag !== 'string') return 'tag: a string is expected';
  if (status === undefined && delayMs === 0) return 'a fault needs a status, a delayMs, or both';
  return { status, delayMs, percent, tag };
}

serve(PORT, {
  'GET /health': (_req, res) => sendJson(res, 200, { status: 'ok' }),
  'GET /metrics': (_req, res) => sendJson(res, 200, { ...counters, fault }),
  'POST /score': async (req, res) => {
    counters.requests++;
    const body = await readJson(req).catch(() => ({}));
    if (typeof body.text !== 'string') return sendJson(res, 400, { error: 'text: a string is required' });
    const f = fault;
    if (f && Math.random() * 100 < f.percent) {
      counters.faulted++;
      if (f.delayMs > 0) await sleep(f.delayMs);
      if (f.status !== undefined) return sendJson(res, f.status, { error: `injected fault: ${f.status}` });
    }
    sendJson(res, 200, { score: scoreOf(body.text) });
  },
});

serve(ADMIN_PORT, {
  'GET /fault': (_req, res) => sendJson(res, 200, { fault }),
  'PUT /fault': async (req, res) => {
    const parsed = parseFault(await readJson(req).catch(() => ({})));
    if (typeof parsed === 'string') return sendJson(res, 400, { error: parsed });
    fault = parsed;
    log('fault-set', fault);
    sendJson(res, 200, { fault });
  },
  'DELETE /fault': (_req, res) => {
    fault = null;
    log('fault-cleared');
    sendJson(res, 200, { fault });
  },
});
log('scoring-listening', { port: PORT, adminPort: ADMIN_PORT });
