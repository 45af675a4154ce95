import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTestConfig } from '../../config/test.js';
import { freePort } from '../../scripts/temporal-cli.js';

// A PostgreSQL cluster of the test's own (initdb + pg_ctl from the PostgreSQL install, in a temporary folder, on
// its own port), so a test can really stop and start the server without touching the shared one.
// PostgreSQL refuses to run as root: when the suite runs as root, the cluster runs as the `postgres` user.

export interface PrivatePostgres {
  /** Admin URL (database `postgres`, trust auth). */
  url: string;
  port: number;
  /** Fast shutdown: open connections are terminated, as in a real outage. Both are no-ops when already so. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = pgBinDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-pg-'));
  const data = path.join(dir, 'data');
  const owner = runAs();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const port = await freePort();
  // Asynchronous, so the runtime sharing this process keeps running (and heartbeating) while the server stops.
  const run = (cmd: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      execFile(path.join(bin, cmd), args, { cwd: dir, ...(owner ?? {}) }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}\n${serverLog(dir)}`));
        else resolve();
      });
    });
  await run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = () => run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', serverOptions, '-w', '-t', '60', 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  await start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (running) await stop();
      running = false;
    },
    async start() {
      if (!running) await start();
      running = true;
    },
    async destroy() {
      try {
        if (running) await stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function pgBinDir(): string {
  const configured = loadTestConfig().TEST_PG_BIN_DIR;
  if (configured) return configured;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error('No PostgreSQL install found under /usr/lib/postgresql; set TEST_PG_BIN_DIR to its bin folder.');
  return path.join(root, versions[0], 'bin');
}

function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('Running as root needs a `postgres` user to run the private PostgreSQL as.');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function serverLog(dir: string): string {
  try {
    return readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
