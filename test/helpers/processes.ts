import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inheritedEnv } from '../../config/test.js';
import { freePort } from '../../scripts/temporal-cli.js';
import { pollUntil } from './wait.js';

// Real runtime processes (`npm run api` / `npm run worker` entrypoints) for scale-out and crash tests.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RuntimeProcess {
  child: ChildProcess;
  url?: string;
  output(): string;
  /** SIGKILL: the process dies without any cleanup, like a crashed machine. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
}

export interface ProcessEnv {
  DATABASE_URL: string;
  TEMPORAL_ADDRESS: string;
  TEMPORAL_TASK_QUEUE: string;
  [key: string]: string;
}

function launch(entry: string, env: Record<string, string>): RuntimeProcess {
  // node --import tsx keeps the runtime in this one process (the tsx CLI would run it in a child), so the pid
  // is the runtime's: SIGKILL really kills it, and its memory is the runtime's memory.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
    cwd: root,
    env: {
      ...inheritedEnv(),
      LOG_LEVEL: 'warn',
      SWEEP_INTERVAL_SECONDS: '0',
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'rt-proc-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function spawnApi(env: ProcessEnv, port?: number): Promise<RuntimeProcess & { url: string }> {
  const p = port ?? (await freePort());
  const proc = launch('api/main.ts', { ...env, PORT: String(p), HOST: '127.0.0.1' });
  const url = `http://127.0.0.1:${p}`;
  await waitFor(
    async () => (await fetch(`${url}/ok`)).ok,
    60_000,
    () => proc.output(),
  );
  return { ...proc, url };
}

/**
 * The whole runtime as `npm start` runs it: its own Temporal dev server (persisted under DATA_DIR), embedded
 * PGlite, one worker and the API, in one process.
 */
export async function spawnRuntime(env: Record<string, string>): Promise<RuntimeProcess & { url: string }> {
  const port = env.PORT ?? String(await freePort());
  const proc = launch('scripts/start.ts', {
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    ...env,
    PORT: port,
    HOST: '127.0.0.1',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${url}/ok`)).ok,
    120_000,
    () => proc.output(),
  );
  return { ...proc, url };
}

/** A worker is ready when its first log line about running appears; LOG_LEVEL info is needed for that line. */
export async function spawnWorker(env: ProcessEnv): Promise<RuntimeProcess> {
  const proc = launch('worker/main.ts', { ...env, LOG_LEVEL: 'info' });
  await waitFor(
    async () => proc.output().includes('worker running'),
    90_000,
    () => proc.output(),
  );
  return proc;
}

function waitFor(check: () => Promise<boolean>, timeoutMs: number, context: () => string): Promise<void> {
  return pollUntil('process ready', () => check().catch(() => false), { timeoutMs, intervalMs: 200, context });
}
