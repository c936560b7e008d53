/**
 * NODE_EXTRA_CA_CERTS as bin/gameday held it back from `gameday run`'s start: Node 20 loads the
 * certificates (and parses its own root certificates with them) as a process starts, about 35 ms,
 * whether or not the process opens a TLS connection, and a run over the local stack's plain HTTP
 * API opens none.
 */
export const HELD_BACK_EXTRA_CA = 'GAMEDAY_HELD_BACK_EXTRA_CA_CERTS';

/**
 * Puts NODE_EXTRA_CA_CERTS back into the environment, for whatever this process starts; returns
 * it when bin/gameday held it back from this process's start (the process then trusts only
 * Node's own root certificates).
 */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const held = env[HELD_BACK_EXTRA_CA];
  if (held === undefined) return undefined;
  delete env[HELD_BACK_EXTRA_CA];
  env.NODE_EXTRA_CA_CERTS ??= held;
  return held;
}

/** Whether `run`'s connections to Temporal may use TLS: a TLS profile or API key (gRPC), or an https HTTP API. */
export function mayUseTls(c: { temporalCredentials: { tls: boolean; plain: boolean }; temporalHttpUrl?: string }): boolean {
  return c.temporalCredentials.tls || !c.temporalCredentials.plain || (c.temporalHttpUrl?.startsWith('https:') ?? false);
}

/**
 * Runs this very command again in a process started with NODE_EXTRA_CA_CERTS (restored by
 * restoreExtraCaCerts), its output and input this one's, and exits with its status. Ctrl-C
 * reaches both (one process group): this one waits for the other to end.
 */
export async function againWithExtraCaCerts(): Promise<never> {
  // Loaded here only: a run that needs no TLS loads no child_process.
  const { spawnSync } = await import('node:child_process');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: process.env });
  if (r.error) {
    process.stderr.write(`gameday: could not start again with NODE_EXTRA_CA_CERTS: ${r.error.message}\n`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}
