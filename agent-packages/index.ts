import { installGraphs } from '../core/graphs.js';
import { loadAgentPackages, type LoadedAgents } from './load.js';

export { loadAgentPackages, type LoadedAgents, type PackageTool } from './load.js';

/**
 * Loads AGENTS_DIR and makes its packages the registered graphs of this process. Both the API and the worker call
 * it at start, so both know the same graphs. A package that fails is logged here and reported at /info.
 */
export async function installAgents(dir: string, builtinTools: string[], log: PackageLog): Promise<LoadedAgents> {
  const loaded = await loadAgentPackages(dir, { builtinTools });
  installGraphs(loaded);
  log.info('agent packages loaded', { dir, graphs: loaded.agents.map((a) => a.graphId) });
  for (const p of loaded.problems) log.error(`agent package ${p.agent} was not loaded: ${p.error}`, { agent: p.agent });
  return loaded;
}

interface PackageLog {
  info(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
}
