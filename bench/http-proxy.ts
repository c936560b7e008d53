/**
 * The latency Gameday's HTTP fault proxy adds to a dependency's answers: the same small GET,
 * sequentially over keep-alive, straight to an endpoint on 127.0.0.1 and through the proxy (the
 * bundle a worker starts, as its own process), with no rule and with 10 rules that do not match.
 */
import { spawn } from 'node:child_process';
import { PROXY_BUNDLE } from '../src/faults/proxy';
import { freePort } from '../test/prometheus';
import { startHttpTarget } from './http-target';
import { below, summarize, type Summary, type Targeted } from './lib';

async function timings(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n + 200; i++) {
    const t = performance.now();
    const res = await fetch(url);
    await res.text();
    if (i >= 200) out.push(performance.now() - t); // the first 200 warm up
  }
  return out;
}

export interface HttpProxyBench {
  requests: number;
  direct: Summary;
  throughProxy: Summary;
  throughProxyTenRules: Summary;
  addedP50Ms: Targeted;
  addedP99Ms: Targeted;
}

export async function httpProxyLatency(n: number): Promise<HttpProxyBench> {
  const target = await startHttpTarget();
  const [listen, admin] = [await freePort(), await freePort()];
  const proxy = spawn(process.execPath, [PROXY_BUNDLE, '--upstream', target.url, '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`http://127.0.0.1:${admin}/proxy`).then((r) => r.ok, () => false)) break;
      if (i > 50) throw new Error('the fault proxy did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const direct = summarize(await timings(`${target.url}/ok`, n));
    const throughProxy = summarize(await timings(`http://127.0.0.1:${listen}/ok`, n));
    for (let i = 0; i < 10; i++) {
      await fetch(`http://127.0.0.1:${admin}/rules/bench-${i}`, { method: 'PUT', body: JSON.stringify({ action: { type: 'error', status: 503 }, path: `/other-${i}`, ttlMs: 600_000 }) });
    }
    const throughProxyTenRules = summarize(await timings(`http://127.0.0.1:${listen}/ok`, n));
    return {
      requests: n,
      direct,
      throughProxy,
      throughProxyTenRules,
      addedP50Ms: below(Math.round((throughProxyTenRules.p50 - direct.p50) * 10) / 10, 2, 'ms'),
      addedP99Ms: below(Math.round((throughProxyTenRules.p99 - direct.p99) * 10) / 10, 10, 'ms'),
    };
  } finally {
    proxy.kill('SIGTERM');
    await target.close();
  }
}
