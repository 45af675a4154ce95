import { registeredGraphs } from '../../core/graphs.js';
import { insertAssistant, systemAssistantId } from '../../db/assistants.js';
import type { Db } from '../../db/pool.js';

/** One system assistant per registered graph, with the id both reference servers derive (uuid5 of the graph id). */
export async function ensureSystemAssistants(db: Db): Promise<void> {
  for (const { graphId, description } of registeredGraphs()) {
    await insertAssistant(db, {
      assistant_id: systemAssistantId(graphId),
      graph_id: graphId,
      config: {},
      context: {},
      metadata: { created_by: 'system' },
      name: graphId,
      description,
    });
  }
}
