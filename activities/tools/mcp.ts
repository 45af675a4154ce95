import { z } from 'zod';
import type { Logger } from '../../config/logger.js';
import type { AgentDefinition } from '../../core/graphs.js';
import { McpServerPool } from './mcp-pool.js';
import type { ToolDefinition } from './types.js';

// MCP tools of agent packages (mcp.json). At start the worker connects to each server and lists its tools; each
// becomes a tool like a defineTool one, so every call is its own activity with the tool kind's retries and timeouts,
// interrupt_on applies by name, and the idempotency key and heartbeats are the same. A package names a server's
// tools as a group, `mcp:<package>.<server>`, which the tool registry expands to the tools the worker found.

export const mcpGroup = (graphId: string, server: string) => `mcp:${graphId}.${server}`;

export interface McpTools {
  /** Group name to the tools it stands for. */
  groups: Map<string, ToolDefinition[]>;
  close(): Promise<void>;
}

/** A transport failure (the server died mid-call): thrown, so the activity retries on a fresh connection. */
class McpCallFailed extends Error {
  override name = 'McpCallFailed';
}

export async function connectMcpServers(
  graphs: AgentDefinition[],
  env: Record<string, string | undefined>,
  taken: Set<string>,
  log: Logger,
): Promise<McpTools> {
  const pools: McpServerPool[] = [];
  const groups = new Map<string, ToolDefinition[]>();
  for (const graph of graphs) {
    // A name is taken by the worker's own tools and, within one package, by the servers listed before.
    const names = new Set(taken);
    for (const [server, spec] of Object.entries(graph.mcpServers ?? {})) {
      const label = mcpGroup(graph.graphId, server);
      const pool = new McpServerPool(label, spec, env, log);
      pools.push(pool);
      try {
        const listed = await pool.use((c) => c.listTools());
        const tools: ToolDefinition[] = [];
        for (const t of listed.tools) {
          if (names.has(t.name)) {
            log.error(`MCP tool ${t.name} of ${label} is not registered: another tool of the package has that name`, { server: label });
            continue;
          }
          names.add(t.name);
          tools.push(mcpTool(pool, t));
        }
        groups.set(label, tools);
        log.info('MCP server connected', { server: label, tools: tools.map((t) => t.name) });
      } catch (err) {
        // The package still serves; its runs go without this server's tools until a worker connects to it.
        log.error(`MCP server ${label} could not be reached: ${String(err)}`, { server: label });
      }
    }
  }
  return { groups, close: async () => void (await Promise.all(pools.map((p) => p.close()))) };
}

interface ListedTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

function mcpTool(pool: McpServerPool, t: ListedTool): ToolDefinition {
  return {
    name: t.name,
    description: t.description ?? t.name,
    // The server validates its arguments; the model sees the server's JSON schema as it is.
    schema: z.record(z.string(), z.unknown()),
    jsonSchema: t.inputSchema,
    async run(args, ctx) {
      let result;
      try {
        result = await pool.use((c) => c.callTool({ name: t.name, arguments: args }, undefined, { signal: ctx.signal }));
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw new McpCallFailed(`${pool.label}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const text = contentText(result.content);
      // An error the tool itself reports goes to the model as it is: calling again would not change it.
      return result.isError ? `Error: ${text}` : text;
    },
  };
}

function contentText(content: unknown): string {
  if (!Array.isArray(content)) return JSON.stringify(content ?? null);
  return content
    .map((part: { type?: string; text?: string }) =>
      part.type === 'text' && typeof part.text === 'string' ? part.text : JSON.stringify(part),
    )
    .join('\n');
}
