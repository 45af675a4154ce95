import { z } from 'zod';

// What an agent package folder may hold (deepagents deploy's layout, see README "Agent packages"): the shape of
// agent.json, mcp.json and a SKILL.md's frontmatter. Unknown keys are errors, as deploy treats them, so a typo is
// named instead of silently ignored.

/** Tools the runtime itself gives packages; a package's own tool may not take one of these names. */
export const fsToolNames = ['ls', 'read_file', 'write_file', 'edit_file', 'glob', 'grep'] as const;
export const runtimeToolNames: readonly string[] = [...fsToolNames, 'write_todos', 'task'];

const graphIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Where the filesystem tools keep files: the thread's state, the store, or `/memories/`-style routes to the store. */
const backendSchema = z.strictObject({
  type: z.enum(['state', 'store', 'composite']),
  /** For `composite`: path prefixes (ending in `/`) routed to a backend; everything else goes to state. */
  routes: z.record(z.string().regex(/^\/.*\/$/, 'a route is an absolute path prefix ending in /'), z.enum(['state', 'store'])).optional(),
});
export type BackendSpec = z.infer<typeof backendSchema>;

const middlewareSchema = z.strictObject({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() });
export type MiddlewareSpec = z.infer<typeof middlewareSchema>;

const common = {
  name: z.string().regex(graphIdPattern, 'letters, digits, _ and -, starting with a letter or digit, at most 64'),
  description: z.string().optional(),
  /** `provider:model` as configurable.model takes it; deploy's generation-2 `runtime.model.model_id` is accepted too. */
  model: z.string().min(1).optional(),
  runtime: z.strictObject({ model: z.strictObject({ model_id: z.string().min(1) }) }).optional(),
  /** Built-in tools this agent may call, besides its own tools/*.ts, its MCP tools and the runtime's. */
  tools: z.array(z.string().min(1)).optional(),
  interrupt_on: z.record(z.string(), z.unknown()).optional(),
  /** Fields deploy knows that this runtime keeps but does not act on (see README): accepted so a deploy folder loads. */
  agent_id: z.string().optional(),
  permissions: z.unknown().optional(),
  extras: z.unknown().optional(),
};

export const agentJsonSchema = z.strictObject({
  ...common,
  middleware: z.array(middlewareSchema).optional(),
  backend: backendSchema.optional(),
  write_todos: z.boolean().optional(),
});
export type AgentJson = z.infer<typeof agentJsonSchema>;

/** A subagent's agent.json: the same fields, minus those that describe the whole package. */
export const subagentJsonSchema = z.strictObject({ ...common, description: z.string().min(1) });

const mcpServerSchema = z
  .strictObject({
    type: z.enum(['stdio', 'http', 'sse', 'streamable_http']).optional(),
    transport: z.enum(['stdio', 'http', 'sse', 'streamable_http']).optional(),
    url: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    command: z.string().optional(),
    args: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
  })
  .refine((s) => (s.command ? !s.url : !!s.url), { message: 'give either command (stdio) or url (http, sse)' });
export type McpServerSpec = z.infer<typeof mcpServerSchema>;

export const mcpJsonSchema = z.strictObject({ mcpServers: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), mcpServerSchema) });

/** The Agent Skills spec's frontmatter; name rules only warn in deepagents, so here too only the required fields fail. */
export const skillFrontmatterSchema = z.looseObject({
  name: z.string().min(1).max(64),
  description: z.string().min(1),
});

/** A zod error as one line that names the field: `tools.2: expected string`. */
export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
