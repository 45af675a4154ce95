import type { Logger } from '../config/logger.js';
import type { Db } from '../db/pool.js';
import type { ModelResolver } from './models/index.js';
import type { ToolRegistry } from './tools/types.js';

export interface ActivityHooks {
  /** Called as each model chunk is produced; benchmarks use it to time token delivery. */
  onModelChunk?(runId: string, index: number, at: number): void;
}

/** What activities need of the long-term store (the store service satisfies it). */
export interface StoreMaintenance {
  sweepExpired(): Promise<number>;
}

export interface ActivityDeps {
  db: Db;
  log: Logger;
  models: ModelResolver;
  tools: ToolRegistry;
  hooks?: ActivityHooks;
  store?: StoreMaintenance;
}
