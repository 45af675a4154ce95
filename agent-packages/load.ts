import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import type { AgentDefinition, PackageProblem, SubagentDefinition } from '../core/graphs.js';
import { PackageDir, PackageError } from './files.js';
import { agentJsonSchema, describeIssues, fsToolNames, mcpJsonSchema, subagentJsonSchema } from './schema.js';
import { loadSkills, skillsPrompt } from './skills.js';

// Loads AGENTS_DIR: one folder per agent package (README "Agent packages"). Each package is validated on its own;
// one that fails is left out and reported with the reason, and the others load.

/** A `defineTool` value exported by a package's tools/*.ts; the worker registers it as it registers its own. */
export interface PackageTool {
  name: string;
  description: string;
  schema: { safeParse(v: unknown): unknown };
  run(...args: never[]): unknown;
}

export interface LoadedAgents {
  agents: AgentDefinition[];
  tools: PackageTool[];
  problems: PackageProblem[];
}

export interface LoadOptions {
  /** Names of the worker's built-in tools: a package's own tool may not reuse one. */
  builtinTools: string[];
}

export async function loadAgentPackages(dir: string, o: LoadOptions): Promise<LoadedAgents> {
  const out: LoadedAgents = { agents: [], tools: [], problems: [] };
  const taken = new Map<string, string>(o.builtinTools.map((n) => [n, 'a built-in tool']));
  for (const n of ['write_todos', 'task', ...fsToolNames]) taken.set(n, "a tool of the runtime's");
  const graphOwner = new Map<string, string>();
  for (const name of packageFolders(dir)) {
    try {
      const { agent, tools } = await loadPackage(path.join(dir, name), o.builtinTools);
      const owner = graphOwner.get(agent.graphId);
      if (owner) throw new PackageError(`agent.json: field name: "${agent.graphId}" is already the name of package ${owner}`);
      for (const t of tools) {
        const holder = taken.get(t.name);
        if (holder) throw new PackageError(`tools/: the tool name "${t.name}" collides with ${holder}`);
      }
      graphOwner.set(agent.graphId, name);
      for (const t of tools) taken.set(t.name, `the tool of package ${name}`);
      out.agents.push(agent);
      out.tools.push(...tools);
    } catch (err) {
      out.problems.push({ agent: name, error: err instanceof PackageError ? err.message : `could not be loaded: ${String(err)}` });
    }
  }
  return out;
}

function packageFolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new Error(`AGENTS_DIR ${dir} cannot be read: ${(err as Error).message}`);
  }
}

async function loadPackage(dir: string, builtinTools: string[]): Promise<{ agent: AgentDefinition; tools: PackageTool[] }> {
  const pkg = new PackageDir(dir);
  const json = readJson(pkg, 'agent.json', agentJsonSchema);
  if (!json) throw new PackageError('agent.json is missing');
  const memory = pkg.read('AGENTS.md');
  if (memory === undefined) throw new PackageError('AGENTS.md is missing (it holds the system prompt)');
  const { skills, files } = loadSkills(pkg);
  const mcp = readJson(pkg, 'mcp.json', mcpJsonSchema);
  const mcpServers = Object.keys(mcp?.mcpServers ?? {});
  const subagents = pkg.folders('subagents').map((name) => loadSubagent(pkg, name, builtinTools, json.name, mcpServers));
  const tools = await importTools(pkg);
  checkToolNames('agent.json', json.tools ?? [], [...builtinTools, ...tools.map((t) => t.name)]);
  const runtimeTools = [
    ...(json.backend ? fsToolNames : []),
    ...(json.write_todos ? ['write_todos'] : []),
    ...(subagents.length ? ['task'] : []),
    // Each MCP server's tools, as one group the worker expands to the tools it listed (activities/tools/mcp.ts).
    ...Object.keys(mcp?.mcpServers ?? {}).map((server) => `mcp:${json.name}.${server}`),
  ];
  const model = json.model ?? json.runtime?.model.model_id;
  const agent: AgentDefinition = {
    graphId: json.name,
    description: json.description ?? '',
    systemPrompt: memory.trim() + skillsPrompt(skills) + subagentsPrompt(subagents),
    tools: unique([...(json.tools ?? []), ...tools.map((t) => t.name), ...runtimeTools]),
    ...(model ? { model } : {}),
    ...(json.interrupt_on ? { interruptOn: json.interrupt_on } : {}),
    ...(json.middleware ? { middleware: json.middleware } : {}),
    ...(json.backend ? { backend: json.backend } : {}),
    ...(skills.length ? { skills } : {}),
    ...(json.backend ? { files: { '/AGENTS.md': memory, ...files } } : {}),
    ...(subagents.length ? { subagents } : {}),
    ...(mcp ? { mcpServers: mcp.mcpServers } : {}),
    dir: pkg.root,
  };
  return { agent, tools };
}

/** subagents/<name>/: agent.json and AGENTS.md like a package, without nesting (as deploy). */
function loadSubagent(pkg: PackageDir, name: string, builtinTools: string[], graphId: string, mcpServers: string[]): SubagentDefinition {
  const base = path.join('subagents', name);
  if (pkg.resolve(path.join(base, 'subagents'))) throw new PackageError(`${base}: subagents cannot have subagents of their own`);
  const json = readJson(pkg, path.join(base, 'agent.json'), subagentJsonSchema);
  if (!json) throw new PackageError(`${base}/agent.json is missing`);
  const memory = pkg.read(path.join(base, 'AGENTS.md'));
  if (memory === undefined) throw new PackageError(`${base}/AGENTS.md is missing`);
  // `mcp:<server>` gives the subagent every tool of one of the package's MCP servers.
  checkToolNames(`${base}/agent.json`, json.tools ?? [], [...builtinTools, ...fsToolNames, ...mcpServers.map((s) => `mcp:${s}`)]);
  const model = json.model ?? json.runtime?.model.model_id;
  return {
    name: json.name,
    description: json.description,
    systemPrompt: memory.trim(),
    tools: (json.tools ?? []).map((t) => (t.startsWith('mcp:') ? `mcp:${graphId}.${t.slice(4)}` : t)),
    ...(model ? { model } : {}),
    ...(json.interrupt_on ? { interruptOn: json.interrupt_on } : {}),
  };
}

function readJson<T>(pkg: PackageDir, rel: string, schema: z.ZodType<T>): T | undefined {
  const text = pkg.read(rel);
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PackageError(`${rel} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new PackageError(`${rel}: field ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function checkToolNames(where: string, names: string[], known: readonly string[]): void {
  for (const [i, n] of names.entries()) {
    if (!known.includes(n)) throw new PackageError(`${where}: field tools.${i}: unknown tool "${n}" (known: ${known.join(', ')})`);
  }
}

/** tools/*.ts: every export shaped like a defineTool value is one of the package's tools. */
async function importTools(pkg: PackageDir): Promise<PackageTool[]> {
  const real = pkg.resolve('tools');
  if (!real) return [];
  const tools: PackageTool[] = [];
  for (const file of readdirSync(real)
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()) {
    const full = pkg.resolve(path.join('tools', file))!;
    const mod = (await import(pathToFileURL(full).href)) as Record<string, unknown>;
    const found = Object.values(mod).filter(isTool);
    if (!found.length) throw new PackageError(`tools/${file} exports no tool (export the value defineTool returns)`);
    tools.push(...found);
  }
  const seen = new Set<string>();
  for (const t of tools) {
    if (seen.has(t.name)) throw new PackageError(`tools/: two tools are named "${t.name}"`);
    seen.add(t.name);
  }
  return tools;
}

function isTool(v: unknown): v is PackageTool {
  if (!v || typeof v !== 'object') return false;
  const t = v as Record<string, unknown>;
  return typeof t.name === 'string' && typeof t.description === 'string' && typeof t.run === 'function' && !!t.schema;
}

const unique = (names: string[]) => [...new Set(names)];

/** The subagents section of the system prompt: what `task` can hand work to. */
function subagentsPrompt(subagents: SubagentDefinition[]): string {
  if (!subagents.length) return '';
  const lines = subagents.map((s) => `- ${s.name}: ${s.description}`);
  return `\n\n## Subagents\nHand self-contained work to a subagent with the task tool (subagent_type is one of):\n${lines.join('\n')}`;
}
