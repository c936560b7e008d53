import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from './config';
import { searchAttributes } from './search-attributes';

const { IndexedValueType } = temporal.api.enums.v1;
const INDEXED: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
};

/** A client for the configured Temporal server; says where it tried when the server is not there. */
export async function connectClient(config: Config): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: '5s' });
  } catch (e) {
    throw new Error(
      `cannot reach the Temporal server at ${config.temporalAddress} (${(e as Error).message}); start the local stack with 'npx gameday dev' or set TEMPORAL_ADDRESS`,
    );
  }
  return new Client({ connection, namespace: config.namespace });
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

/** A workflow id people can read and sort: `<experiment>-<UTC time>-<4 random hex>`. */
export function newWorkflowId(experimentId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${experimentId}-${stamp}-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`;
}
