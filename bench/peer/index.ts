import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inheritedEnv } from '../../config/test.js';
import { freePort, projectRoot, stopChild } from '../../scripts/temporal-cli.js';

// Starts the peer server (./server.ts) in a child process that works in a fresh folder, so its files
// (.langgraphjs_ops.json and the like) stay out of the project, and waits until it answers /ok.

export interface Peer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startPeer(): Promise<Peer> {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'rt-peer-'));
  const port = await freePort();
  const entry = fileURLToPath(new URL('./server.ts', import.meta.url));
  // Started from the project, where `--import tsx` resolves; the server then moves into its own folder.
  const child = spawn(process.execPath, ['--import', 'tsx', entry, String(port), cwd], {
    cwd: projectRoot,
    env: { ...inheritedEnv(), LOG_LEVEL: 'warn', LANGSMITH_TRACING: 'false' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the langgraph-api server exited with ${child.exitCode}: ${stderr}`);
    if (
      await fetch(`${url}/ok`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`the langgraph-api server did not answer in 60 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      await stopChild(child);
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
