import { DefaultLogger, Runtime } from '@temporalio/worker';
import { FailureType, GamedayError } from '../errors';
import { HISTOGRAM_BUCKETS } from './gameday';

/** What the SDK's runtime of a Gameday process is installed with. */
export interface RuntimeSettings {
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** GAMEDAY_METRICS_ADDRESS: where /metrics is served (ip:port); none when unset. */
  metricsAddress?: string;
}

let installed: RuntimeSettings | undefined;

/**
 * Installs the SDK's runtime once per process (a worker, an agent): its logger and, with a
 * metrics address, its Prometheus exporter, which serves the SDK's `temporal_*` metrics and
 * Gameday's `gameday_*` (created on the runtime's meter, src/metrics/gameday.ts) on one /metrics.
 * Later calls with the same settings do nothing.
 * @throws GamedayError InvalidConfig when the runtime was installed already with another metrics
 *   address (the SDK installs it once), or when the exporter cannot bind the address.
 */
export function installRuntime(settings: RuntimeSettings): void {
  if (installed) {
    if (installed.metricsAddress !== settings.metricsAddress) throw new GamedayError(FailureType.InvalidConfig, `GAMEDAY_METRICS_ADDRESS: this process serves metrics on ${installed.metricsAddress ?? 'no address'} already; the SDK's runtime is installed once per process`);
    return;
  }
  const metrics = settings.metricsAddress ? { metrics: { prometheus: { bindAddress: settings.metricsAddress, histogramBucketOverrides: HISTOGRAM_BUCKETS } } } : {};
  try {
    Runtime.install({ logger: new DefaultLogger(settings.logLevel), ...(settings.metricsAddress ? { telemetryOptions: metrics } : {}) });
  } catch (e) {
    throw new GamedayError(FailureType.InvalidConfig, `GAMEDAY_METRICS_ADDRESS: cannot serve metrics on ${settings.metricsAddress}: ${(e as Error).message}`);
  }
  installed = settings;
}
