import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import type { Logger } from '../../config/logger.js';
import { ModelCallError } from './types.js';

// What a worker keeps of its local models: one llama.cpp runtime, each GGUF loaded once and kept, and a gate
// that bounds the generations running at once. Generation itself is in local.ts.

export interface LocalHostSettings {
  /** CPU threads per evaluation; default: see defaultLocalThreads. */
  threads?: number;
  /** Context sequences per model, and so the generations a worker runs at once. */
  sequences: number;
  /** Tokens of context per sequence (capped at what the model was trained with). */
  contextSize: number;
  log: Logger;
}

export interface LoadedModel {
  path: string;
  name: string;
  model: LlamaModel;
  context: LlamaContext;
  /** Resolved once per model: resolving reads the GGUF's chat template, which takes half a second. */
  wrapper: ChatWrapper;
  idle: LlamaContextSequence[];
}

type LlamaModule = typeof import('node-llama-cpp');

export class LocalModelHost {
  readonly gate: Gate;
  private module?: Promise<LlamaModule>;
  private llama?: Promise<Llama>;
  private readonly models = new Map<string, Promise<LoadedModel>>();
  private readonly ready = new Map<string, LoadedModel>();

  constructor(private readonly s: LocalHostSettings) {
    this.gate = new Gate(s.sequences);
  }

  get threads(): number {
    return this.s.threads ?? defaultLocalThreads();
  }

  /** The model at `file` if it is loaded already. */
  loaded(file: string): LoadedModel | undefined {
    return this.ready.get(path.resolve(file));
  }

  /** The model at `file`, loaded on first use and then kept. A failed load is forgotten, so a fixed file loads. */
  load(file: string): Promise<LoadedModel> {
    const key = path.resolve(file);
    let loading = this.models.get(key);
    if (!loading) {
      loading = this.loadModel(key);
      this.models.set(key, loading);
      loading.then(
        (m) => this.ready.set(key, m),
        () => this.models.delete(key),
      );
    }
    return loading;
  }

  async close(): Promise<void> {
    const models = await Promise.allSettled([...this.models.values()]);
    this.models.clear();
    this.ready.clear();
    for (const m of models) if (m.status === 'fulfilled') await m.value.model.dispose();
    if (this.llama) await (await this.llama).dispose();
  }

  private async loadModel(file: string): Promise<LoadedModel> {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new ModelCallError(`Local model file not found: ${file}`, false);
    const started = Date.now();
    const { LlamaChat } = await this.llamaModule();
    const llama = await this.runtime();
    const model = await llama.loadModel({ modelPath: file }).catch((err: unknown) => {
      throw new ModelCallError(`Could not load local model ${file}: ${err instanceof Error ? err.message : String(err)}`, false);
    });
    try {
      const context = await model.createContext({
        sequences: this.s.sequences,
        contextSize: Math.min(this.s.contextSize, model.trainContextSize),
        threads: this.threads,
      });
      const idle = Array.from({ length: this.s.sequences }, () => context.getSequence());
      const probe = new LlamaChat({ contextSequence: idle[0]! });
      const wrapper = probe.chatWrapper;
      probe.dispose();
      const name = path.basename(file, '.gguf');
      this.s.log.info('local model loaded', { file, ms: Date.now() - started, threads: this.threads, sequences: this.s.sequences });
      return { path: file, name, model, context, wrapper, idle };
    } catch (err) {
      await model.dispose();
      throw new ModelCallError(`Could not start local model ${file}: ${err instanceof Error ? err.message : String(err)}`, false);
    }
  }

  /** Imported on first use, so workers that never run a local model never load the native addon. */
  llamaModule(): Promise<LlamaModule> {
    this.module ??= import('node-llama-cpp');
    return this.module;
  }

  private runtime(): Promise<Llama> {
    this.llama ??= this.llamaModule().then(({ getLlama, LlamaLogLevel }) =>
      getLlama({
        // The prebuilt CPU binary from npm. `build: 'never'`: never clone and compile llama.cpp from GitHub.
        gpu: false,
        build: 'never',
        maxThreads: this.threads,
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => this.s.log.warn('llama.cpp', { level, message: message.trim() }),
      }),
    );
    return this.llama;
  }
}

/**
 * One thread fewer than there are cores. llama.cpp's threads wait for one another on every token, so one of them
 * losing its core stalls them all: more threads than free cores slows it to a crawl. A worker always has other
 * work while it generates (storing and streaming the tokens, heartbeats, the API and database in `npm start`),
 * and on the 2-core build machine 1 thread decoded SmolLM2 several times faster than 2 there (see the bench).
 */
export function defaultLocalThreads(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

/** A FIFO semaphore whose waiters leave the queue when their signal aborts. */
export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.running < this.capacity) this.running++;
    else await this.wait(signal);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }

  private wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      // The slot passes straight to the next waiter, so `running` stays the same.
      const admit = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(admit), 1);
        reject(signal.reason as Error);
      };
      this.waiting.push(admit);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
