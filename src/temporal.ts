import { isIP } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from './config';
import { searchAttributes } from './search-attributes';
import { explainConnectFailure, temporalConnectionOptions } from './temporal-connection';

const { IndexedValueType } = temporal.api.enums.v1;
const INDEXED: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

/**
 * A client for the configured Temporal server, through Temporal's own connection settings
 * (temporalConnectionOptions: address, namespace, TLS, API key, profiles). When it cannot
 * connect, the error is one line saying why (not there, TLS refused, API key refused) and what to set.
 */
export async function connectClient(config: Config): Promise<Client> {
  const options = temporalConnectionOptions(config);
  if (options.tls && isIP(hostOf(config.temporalAddress))) quietIpServerNameWarning();
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...options, connectTimeout: '5s' });
  } catch (e) {
    throw await explainConnectFailure(config, e);
  }
  return new Client({ connection, namespace: config.namespace });
}

function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'));
}

let quieted = false;
/**
 * grpc-js hands an IP address to Node as the TLS server name, which Node deprecates (DEP0123)
 * with a warning on stderr: nothing a user of a cluster reached by IP could act on, so that one
 * warning is dropped; every other warning is printed as before.
 */
function quietIpServerNameWarning(): void {
  if (quieted) return;
  quieted = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' ? (rest[0] as { code?: string }).code : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

/**
 * Registers Gameday's search attributes on the namespace when they are missing. The experiment
 * workflow upserts them, and an unregistered attribute would fail its workflow tasks.
 */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const key of Object.values(searchAttributes)) {
    if (existing.customAttributes?.[key.name] !== undefined) continue;
    missing[key.name] = INDEXED[key.type];
  }
  if (Object.keys(missing).length === 0) return;
  await client.connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
}

export { newWorkflowId } from './workflow-id';
