import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadTestConfig } from '../config/test.js';
import { createLogger, type Logger } from '../config/logger.js';
import type { DbKind } from '../db/pool.js';
import { findOrInstallTemporal, freePort, startDevServer, type DevServer } from '../scripts/temporal-cli.js';
import { startStack, type Stack, type StackOptions } from '../test/helpers/stack.js';
import { workflowsPath } from '../worker/create.js';

// Shared by every benchmark: one Temporal dev server (on a SQLite file, as `npm start` runs it, unless
// --server=memory) and one workflow bundle, and stacks built on them.

export interface BenchEnv {
  log: Logger;
  db: DbKind;
  server: DevServer;
  bundlePath: string;
  stack(o?: StackOptions): Promise<Stack>;
  stop(): Promise<void>;
}

export interface ServerChoice {
  /** The CLI's defaults instead of devServerTuning (to measure what the tuning buys). */
  untuned?: boolean;
  /** An in-memory server, as the tests use, instead of a SQLite file as `npm start` has. */
  memory?: boolean;
  dynamicConfig?: Record<string, unknown>;
}

export async function benchEnv(db: DbKind, choice: ServerChoice = {}): Promise<BenchEnv> {
  const log = createLogger('warn', { component: 'bench' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-bench-'));
  const server = await startDevServer({
    binary: findOrInstallTemporal(loadTestConfig().TEMPORAL_CLI_PATH, log),
    port: await freePort(),
    uiPort: null,
    ...(choice.memory ? {} : { dbFile: path.join(dir, 'temporal.db') }),
    tuned: !choice.untuned,
    dynamicConfig: choice.dynamicConfig ?? {},
    log,
  });
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const bundlePath = path.join(dir, 'bundle.js');
  writeFileSync(bundlePath, code);
  return {
    log,
    db,
    server,
    bundlePath,
    stack: (o = {}) => startStack({ db, temporalAddress: server.address, workflowBundlePath: bundlePath, ...o }),
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`;
  process.stdout.write(
    `\n${title}\n${line(header)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map((r) => line(r.map(String))).join('\n')}\n`,
  );
}
