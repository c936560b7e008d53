import { TargetUnreachable } from './family';

/**
 * One request to the HTTP admin API of what a fault family acts through (Toxiproxy's API, the
 * HTTP fault proxy's), JSON in, within 5 s. Any answer is returned, whatever its status; a failure
 * to connect or a timeout is TargetUnreachable, naming `what` (e.g. "Toxiproxy"), the API, the
 * method and the path.
 */
export async function adminRequest(what: string, base: string, method: string, path: string, body?: unknown): Promise<Response> {
  try {
    return await fetch(`${base.replace(/\/$/, '')}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    throw new TargetUnreachable(`${what} at ${base} (${method} ${path})`, e);
  }
}
