import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@langchain/langgraph-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { inheritedEnv } from '../config/test.js';
import { openPglite } from '../db/pool.js';
import { getThread } from '../db/threads.js';
import { freePort, portIsFree } from '../scripts/temporal-cli.js';
import { human } from './helpers/input.js';
import { pollUntil } from './helpers/wait.js';

// `npm start` stopped the way systemd and Docker stop it: SIGTERM to the whole process group, so npm, node and
// anything else in the group get it at once. It must shut down once and in order (API, worker drain, database,
// Temporal), exit 0, leave no dev server behind, and leave PGlite closed so the next start opens it cleanly.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rt-shutdown-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface LogLine {
  msg: string;
  part?: string;
  signal?: string;
}

describe('npm start under a process-group SIGTERM', () => {
  it('drains and stops once, in order, and exits 0', async () => {
    const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn('npm', ['start'], {
      cwd: root,
      detached: true, // its own process group, as a service manager would start it
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...inheritedEnv(),
        DATA_DIR: dataDir,
        PORT: String(port),
        TEMPORAL_PORT: String(temporalPort),
        TEMPORAL_UI_PORT: String(uiPort),
        SWEEP_INTERVAL_SECONDS: '0',
        LOG_LEVEL: 'info',
      },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      await pollUntil(
        'npm start came up',
        async () => {
          if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
          return fetch(`${url}/ok`).then(
            (r) => r.ok,
            () => false,
          );
        },
        { timeoutMs: 120_000, intervalMs: 200, context: () => output },
      );
      const client = new Client({ apiUrl: url, apiKey: null });
      const thread = await client.threads.create();
      await client.runs.wait(thread.thread_id, 'agent', { input: human('remember me') });

      process.kill(-child.pid!, 'SIGTERM');
      const { code, signal } = await exited;
      expect({ code, signal }, output).toEqual({ code: 0, signal: null });

      const lines = output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
      expect(lines.filter((l) => l.msg === 'shutting down')).toHaveLength(1);
      expect(lines.some((l) => l.msg === 'signal during shutdown: exiting now' || l.msg === 'stop failed')).toBe(false);
      const stopped = lines.filter((l) => l.msg === 'stopped').map((l) => l.part);
      expect(stopped.filter((p) => p !== 'api-temporal-client')).toEqual(['api', 'worker', 'database', 'temporal']);
      expect(lines.at(-1)!.msg).toBe('shutdown complete');
      expect(await portIsFree(temporalPort)).toBe(true);

      // PGlite was closed: its lock is released and it opens again with the data.
      expect(existsSync(path.join(dataDir, 'pglite', 'runtime.lock'))).toBe(false);
      const db = await openPglite(path.join(dataDir, 'pglite'), createLogger('error'));
      try {
        expect((await getThread(db, thread.thread_id))?.values).toMatchObject({ messages: [{ content: 'remember me' }, {}] });
      } finally {
        await db.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 240_000);
});
