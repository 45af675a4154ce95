import { findGraph } from '../../core/graphs.js';
import { getAssistant, systemAssistantId, type AssistantRow } from '../../db/assistants.js';
import type { Queryable } from '../../db/pool.js';
import { notFound } from '../errors.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every route accepts a graph id where an assistant id goes: it names that graph's system assistant. */
export function assistantIdOf(idOrGraph: string): string | undefined {
  if (findGraph(idOrGraph)) return systemAssistantId(idOrGraph);
  return uuidPattern.test(idOrGraph) ? idOrGraph.toLowerCase() : undefined;
}

export async function findAssistant(q: Queryable, idOrGraph: string): Promise<AssistantRow | undefined> {
  const id = assistantIdOf(idOrGraph);
  return id ? getAssistant(q, id) : undefined;
}

export async function requireAssistant(q: Queryable, idOrGraph: string): Promise<AssistantRow> {
  const a = await findAssistant(q, idOrGraph);
  if (!a) throw notFound('Assistant not found');
  return a;
}

/** The assistant the server creates for each registered graph (the one a graph id names). */
export function isSystemAssistant(a: Pick<AssistantRow, 'assistant_id' | 'graph_id'>): boolean {
  return findGraph(a.graph_id) !== undefined && a.assistant_id === systemAssistantId(a.graph_id);
}
