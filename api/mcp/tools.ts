import { graphSchemas } from '../assistants/graph.js';
import { searchAssistants, type AssistantRow } from '../../db/assistants.js';
import type { Queryable } from '../../db/pool.js';
import type { AuthFilter } from '../../core/auth/filter.js';

// Every assistant is an MCP tool (reference §3.1): named and described from the assistant, with the input schema
// of its graph, where a `messages` list becomes one string: the user's message.

export const TOOLS_PAGE = 100;

export interface AssistantTool {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, unknown>; required?: string[] };
  annotations: Record<string, boolean>;
}

/** Whitespace becomes `_`, characters MCP does not allow in a tool name are dropped, at most 128 remain. */
export const toolName = (name: string) =>
  name
    .trim()
    .replace(/\s+/g, '_')
    .replace(/[^A-Za-z0-9_.-]/g, '')
    .slice(0, 128);

export function toolOf(a: AssistantRow): AssistantTool {
  const schema = graphSchemas(a.graph_id).input_schema as { properties?: Record<string, unknown> };
  const properties: Record<string, unknown> = { ...schema.properties };
  if ('messages' in properties) properties.messages = { type: 'string', description: 'The user message to send to the agent.' };
  return {
    name: toolName(a.name),
    title: a.name,
    description: a.description || `Tool based on the ${a.name} assistant`,
    inputSchema: { type: 'object', properties },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  };
}

/** One page of tools; a name another assistant already took is skipped, as the reference does. */
export async function listTools(
  q: Queryable,
  offset: number,
  authFilter?: AuthFilter,
): Promise<{ tools: AssistantTool[]; nextCursor?: string }> {
  const { rows } = await searchAssistants(q, { limit: TOOLS_PAGE, offset, sort_by: 'created_at', sort_order: 'asc', authFilter });
  const seen = new Set<string>();
  const tools: AssistantTool[] = [];
  for (const a of rows) {
    const tool = toolOf(a);
    if (!tool.name || seen.has(tool.name)) continue;
    seen.add(tool.name);
    tools.push(tool);
  }
  return { tools, ...(rows.length === TOOLS_PAGE ? { nextCursor: String(offset + TOOLS_PAGE) } : {}) };
}

/** The assistants a tool name stands for (more than one is an ambiguous call). */
export async function assistantsNamed(q: Queryable, name: string, authFilter?: AuthFilter): Promise<AssistantRow[]> {
  const found: AssistantRow[] = [];
  for (let offset = 0; ; offset += TOOLS_PAGE) {
    const { rows } = await searchAssistants(q, { limit: TOOLS_PAGE, offset, sort_by: 'created_at', sort_order: 'asc', authFilter });
    found.push(...rows.filter((a) => toolName(a.name) === name));
    if (rows.length < TOOLS_PAGE) return found;
  }
}
