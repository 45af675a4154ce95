import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { mount } from '../route.js';
import { runToEnd } from '../runs/to-end.js';
import { assistantsNamed, listTools } from './tools.js';
import { searchFilterOf } from '../auth/context.js';

// `/mcp`: the assistants as MCP tools, over Streamable HTTP, stateless and JSON-only as the reference serves it
// (§3.1). Built on the official MCP SDK: a server and transport per request, so any API process answers any call.
// It sits behind whatever authenticates the other routes; tools/call creates its run through the one run service.

export function mcpRouter(deps: AppDeps, registry: OpenAPIRegistry): Router {
  const router = Router();
  const tag = 'MCP';
  mount(router, registry, {
    method: 'post',
    path: '/mcp',
    summary: 'MCP JSON-RPC over Streamable HTTP (stateless): tools/list, tools/call',
    tag,
    body: z.unknown(),
    handler: async ({ body }, req, res) => {
      const server = mcpServer(deps, req);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close().then(() => server.close()));
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    },
  });
  // Stateless: no server-initiated stream to open and no session to end.
  mount(router, registry, {
    method: 'get',
    path: '/mcp',
    summary: 'Not supported: the MCP endpoint is stateless (405)',
    tag,
    handler: (_input, _req, res) => void res.status(405).setHeader('Allow', 'POST').json(rpcError('Method not allowed.')),
  });
  mount(router, registry, {
    method: 'delete',
    path: '/mcp',
    summary: 'Not supported: there are no sessions to terminate (404)',
    tag,
    handler: (_input, _req, res) => void res.status(404).json(rpcError('Session termination is not supported.')),
  });
  return router;
}

const rpcError = (message: string) => ({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });

function mcpServer(deps: AppDeps, req: Request): McpServer {
  const mcp = new McpServer({ name: 'LangGraph', version: deps.settings.version }, { capabilities: { tools: { listChanged: false } } });
  mcp.server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    const cursor = request.params?.cursor;
    const offset = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(offset) || offset < 0) throw new McpError(ErrorCode.InvalidParams, `Invalid cursor: ${cursor}`);
    // Only the assistants the caller may see are tools (the route's policy set the `assistants:search` filter).
    return listTools(deps.db, offset, searchFilterOf(req));
  });
  mcp.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    const matches = await assistantsNamed(deps.db, name, searchFilterOf(req));
    if (matches.length === 0) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    if (matches.length > 1) throw new McpError(ErrorCode.InvalidParams, `Tool name ${name} matches ${matches.length} assistants`);
    checkArguments(args);
    const context = (request.params as { context?: unknown }).context;
    return callAssistant(deps, req, matches[0]!.assistant_id, args, context, extra.signal);
  });
  return mcp;
}

/** The tool's schema says `messages` is the user's message as text; anything else there is refused up front. */
function checkArguments(args: Record<string, unknown>): void {
  const messages = args.messages;
  if (messages !== undefined && typeof messages !== 'string' && !Array.isArray(messages))
    throw new McpError(ErrorCode.InvalidParams, 'Invalid arguments: messages must be a string (the user message to send)');
}

/** A stateless run to its end; the final state is JSON text (the reference sends a Python repr). */
async function callAssistant(
  deps: AppDeps,
  req: Request,
  assistantId: string,
  args: Record<string, unknown>,
  context: unknown,
  signal: AbortSignal,
): Promise<CallToolResult> {
  try {
    const body = { assistant_id: assistantId, input: args, ...(isObject(context) ? { context } : {}) };
    const { end, values } = await runToEnd(deps, null, body, req.headers, signal);
    if (end?.error) return { isError: true, content: [{ type: 'text', text: `${end.error.error}: ${end.error.message}` }] };
    return { content: [{ type: 'text', text: JSON.stringify(values) }] };
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) throw new McpError(ErrorCode.InvalidParams, err.message);
    throw err;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
