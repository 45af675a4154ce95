import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../config/logger.js';
import { inheritedEnv } from '../config/test.js';
import { projectRoot } from './temporal-cli.js';

// The official Python clients (langgraph-sdk, and RemoteGraph from langgraph) in a virtualenv under .tools/,
// built from the pinned test/python/requirements.txt. A venv that matches the pins and the Python is reused;
// any other is rebuilt. The build happens in a scratch folder that is renamed into place when complete, so an
// interrupted build is never mistaken for a finished one.

export const requirementsFile = path.join(projectRoot, 'test', 'python', 'requirements.txt');
const venvDir = path.join(projectRoot, '.tools', 'python-clients');
const stampFile = (dir: string) => path.join(dir, 'requirements.sha256');
export const venvPython = (dir = venvDir) => path.join(dir, 'bin', 'python');

interface Result {
  code: number | null;
  output: string;
}

function run(cmd: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: inheritedEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => resolve({ code: null, output: err.message }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function findPython(): Promise<{ python: string; version: string }> {
  for (const python of ['python3', 'python']) {
    const r = await run(python, ['-c', 'import sys; print(sys.version)']);
    if (r.code === 0) return { python, version: r.output.trim() };
  }
  throw new Error('No python3 found: the Python client tests need Python 3 with pip (apt-get install python3 python3-venv).');
}

/** Returns the venv's python, building the venv first when it is missing or does not match the pins. */
export async function ensurePythonClients(log: Logger): Promise<string> {
  const { python, version } = await findPython();
  const stamp = createHash('sha256').update(readFileSync(requirementsFile)).update(version).digest('hex');
  if (existsSync(venvPython()) && (await readFile(stampFile(venvDir), 'utf8').catch(() => '')) === stamp) return venvPython();
  log.info('building the Python client virtualenv', { requirements: requirementsFile, target: venvDir });
  const scratch = `${venvDir}.building-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(path.dirname(venvDir), { recursive: true });
  try {
    await createVenv(python, scratch);
    const pip = await run(venvPython(scratch), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirementsFile]);
    if (pip.code !== 0) throw new Error(`pip install -r ${requirementsFile} failed (exit ${pip.code}):\n${pip.output}`);
    await writeFile(stampFile(scratch), stamp);
    await rm(venvDir, { recursive: true, force: true });
    await rename(scratch, venvDir);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return venvPython();
}

/** `python -m venv`; where ensurepip is missing (Debian without python3-venv), a venv without pip that pip fills. */
async function createVenv(python: string, dir: string): Promise<void> {
  const venv = await run(python, ['-m', 'venv', dir]);
  if (venv.code === 0) return;
  const bare = await run(python, ['-m', 'venv', '--without-pip', dir]);
  const pip = bare.code === 0 ? await run(python, ['-m', 'pip', '--python', venvPython(dir), 'install', '--quiet', 'pip']) : bare;
  if (pip.code !== 0) {
    throw new Error(`Could not create a virtualenv with ${python} (install python3-venv, or pip 22.3+):\n${venv.output}\n${pip.output}`);
  }
}
