import { randomUUID } from 'node:crypto';
import type {
  ChatHistoryItem,
  ChatModelFunctions,
  ChatWrapper,
  ChatWrapperGeneratedPrefixTriggersContextState,
  LlamaChatResponse,
  LlamaContextSequence,
} from 'node-llama-cpp';
import type { Logger } from '../../config/logger.js';
import { isRecord, type ToolCall } from '../../core/messages.js';
import { toChatHistory, toFunctions } from './local-chat.js';
import { findOrInstallLocalModel } from './local-files.js';
import { LocalModelHost, type LoadedModel } from './local-host.js';
import { ModelCallError, type ModelChunk, type ModelProvider, type ModelRequest, type ModelResult } from './types.js';

// The `local` provider: a GGUF model run in the worker by node-llama-cpp, on the CPU. It streams text and tool
// call arguments as they are sampled, stops on the activity's abort signal, and reports token usage. Tool
// calls use node-llama-cpp's function calling, whose name and JSON arguments are constrained by a grammar.

export interface LocalModelSettings {
  /** The GGUF behind a bare `local`; unset: the default small model, installed into .tools/ on first use. */
  modelPath?: string;
  threads?: number;
  sequences: number;
  contextSize: number;
  log: Logger;
  /** Observes each finished generation (tests and benchmarks read timings from it). */
  onGeneration?: (g: GenerationRecord) => void;
}

export interface GenerationRecord {
  model: string;
  /** Time spent waiting for the model to load (0 once it is loaded). */
  loadWaitMs: number;
  /** Time spent queued behind other generations of this worker. */
  queuedMs: number;
  firstChunkMs: number | null;
  generateMs: number;
  promptTokens: number;
  outputTokens: number;
  stopReason: string;
}

export interface LocalModelProvider extends ModelProvider {
  /** Installs (if needed) and loads the default model, so the first run does not wait for it. */
  preload(): Promise<string>;
  /** Generations running and waiting in this worker. */
  load(): { active: number; queued: number };
  close(): Promise<void>;
}

type LlamaModule = typeof import('node-llama-cpp');

const finishReasons: Record<string, string> = { maxTokens: 'length', functionCalls: 'tool_calls', abort: 'abort' };

export function createLocalProvider(s: LocalModelSettings): LocalModelProvider {
  const host = new LocalModelHost(s);
  const defaultPath = () => (s.modelPath ? Promise.resolve(s.modelPath) : findOrInstallLocalModel(s.log));
  return {
    name: 'local',
    async preload() {
      const file = await defaultPath();
      await host.load(file);
      return file;
    },
    load: () => ({ active: host.gate.active, queued: host.gate.queued }),
    close: () => host.close(),
    async generate(req, onChunk, signal) {
      const file = await modelFile(req.model, defaultPath);
      const started = Date.now();
      const ready = host.loaded(file);
      const loaded = ready ?? (await host.load(file));
      const loadedAt = Date.now();
      const release = await host.gate.acquire(signal);
      const record = newRecord(loaded.name, ready ? 0 : loadedAt - started, Date.now() - loadedAt);
      const sequence = loaded.idle.pop()!;
      try {
        return await generateOn(await host.llamaModule(), loaded, sequence, req, onChunk, signal, record);
      } finally {
        loaded.idle.push(sequence);
        release();
        s.onGeneration?.(record);
      }
    },
  };
}

/** `local` is the default model; `local:<file.gguf>` any GGUF file. */
async function modelFile(name: string, defaultPath: () => Promise<string>): Promise<string> {
  if (name !== 'local' && name !== '') {
    if (!name.endsWith('.gguf')) throw new ModelCallError(`Model "local:${name}" must name a .gguf file`, false);
    return name;
  }
  try {
    return await defaultPath();
  } catch (err) {
    throw new ModelCallError(err instanceof Error ? err.message : String(err), false);
  }
}

function newRecord(model: string, loadWaitMs: number, queuedMs: number): GenerationRecord {
  return { model, loadWaitMs, queuedMs, firstChunkMs: null, generateMs: 0, promptTokens: 0, outputTokens: 0, stopReason: 'error' };
}

/** One model turn on a sequence this call holds alone, so the sequence's token meter counts only this turn. */
async function generateOn(
  llama: LlamaModule,
  loaded: LoadedModel,
  sequence: LlamaContextSequence,
  req: ModelRequest,
  onChunk: (c: ModelChunk) => void,
  signal: AbortSignal,
  record: GenerationRecord,
): Promise<ModelResult> {
  const started = Date.now();
  const outputBefore = sequence.tokenMeter.usedOutputTokens;
  const chatWrapper = forcedCall(req) ? forceFunctionCall(llama, loaded.wrapper) : loaded.wrapper;
  const chat = new llama.LlamaChat({ contextSequence: sequence, chatWrapper });
  const relay = new ChunkRelay(onChunk);
  try {
    const result = await runChat(chat, loaded, req, signal, (chunk) => {
      record.firstChunkMs ??= Date.now() - started;
      relay.push(chunk);
    });
    relay.flush();
    record.stopReason = result.metadata.stopReason;
    record.promptTokens = result.promptTokens;
    return toResult(result, record.promptTokens, sequence.tokenMeter.usedOutputTokens - outputBefore, loaded.name);
  } catch (err) {
    relay.flush();
    if (signal.aborted) {
      record.stopReason = 'abort';
      throw err;
    }
    if (err instanceof ModelCallError) throw err;
    // Nothing here is fixed by trying again on the same file with the same prompt.
    throw new ModelCallError(`Local model ${loaded.name} failed: ${err instanceof Error ? err.message : String(err)}`, false);
  } finally {
    record.generateMs = Date.now() - started;
    record.outputTokens = sequence.tokenMeter.usedOutputTokens - outputBefore;
    chat.dispose();
  }
}

/**
 * Passes chunks on in a later macrotask. node-llama-cpp calls back between two tokens and starts the next one only
 * after the callback's microtasks, so the runtime's work per chunk (events stored, heartbeats) would otherwise
 * delay every token; deferred, it runs while the next token is evaluated. Chunks keep their order and size.
 */
class ChunkRelay {
  private pending: ModelChunk[] = [];
  private scheduled = false;

  constructor(private readonly deliver: (c: ModelChunk) => void) {}

  push(chunk: ModelChunk): void {
    this.pending.push(chunk);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Delivers what is pending now; the generation's end calls it, so nothing is delivered after the result. */
  flush(): void {
    this.scheduled = false;
    for (const chunk of this.pending.splice(0)) this.deliver(chunk);
  }
}

type ChatResult = LlamaChatResponse<ChatModelFunctions> & { promptTokens: number; callIds: string[] };

async function runChat(
  chat: import('node-llama-cpp').LlamaChat,
  loaded: LoadedModel,
  req: ModelRequest,
  signal: AbortSignal,
  onChunk: (c: ModelChunk) => void,
): Promise<ChatResult> {
  const history = toChatHistory(req.system, req.messages);
  const functions = functionsFor(req);
  const callIds: string[] = [];
  const promptTokens = countPromptTokens(loaded, history, functions);
  const options = {
    maxTokens: req.maxTokens,
    temperature: req.temperature,
    signal,
    onTextChunk: (text: string) => text && onChunk({ content: text }),
  };
  const response = functions
    ? await chat.generateResponse(history, {
        ...options,
        functions,
        documentFunctionParams: true,
        onFunctionCallParamsChunk: (c) => {
          const first = callIds[c.callIndex] === undefined;
          if (first) callIds[c.callIndex] = `call_${randomUUID()}`;
          const chunk = { index: c.callIndex, args: c.paramsChunk };
          onChunk({ toolCallChunks: [first ? { ...chunk, id: callIds[c.callIndex]!, name: c.functionName } : chunk] });
        },
      })
    : await chat.generateResponse(history, options);
  return { ...response, promptTokens, callIds };
}

function toResult(r: ChatResult, input: number, output: number, modelName: string): ModelResult {
  const toolCalls: ToolCall[] = (r.functionCalls ?? []).map((call, i) => ({
    name: call.functionName,
    args: isRecord(call.params) ? call.params : {},
    id: r.callIds[i] ?? `call_${randomUUID()}`,
    type: 'tool_call',
  }));
  return {
    content: r.response,
    toolCalls,
    usage: { input_tokens: input, output_tokens: output, total_tokens: input + output },
    responseMetadata: {
      model_name: modelName,
      model_provider: 'local',
      finish_reason: finishReasons[r.metadata.stopReason] ?? 'stop',
    },
  };
}

/** The prompt as the model sees it, tools' documentation included, counted in the model's tokens. */
function countPromptTokens(loaded: LoadedModel, history: ChatHistoryItem[], functions: ChatModelFunctions | undefined): number {
  const state = loaded.wrapper.generateContextState({ chatHistory: history, availableFunctions: functions, documentFunctionParams: true });
  return state.contextText.tokenize(loaded.model.tokenizer).length;
}

/** `none` hides the tools; a tool name narrows them to that one tool. */
function functionsFor(req: ModelRequest): ChatModelFunctions | undefined {
  const choice = req.toolChoice ?? 'auto';
  if (choice === 'none') return undefined;
  if (choice === 'auto' || choice === 'required') return toFunctions(req.tools);
  const named = req.tools.filter((t) => t.name === choice);
  if (!named.length) throw new ModelCallError(`tool_choice "${choice}" names no tool of this agent`, false);
  return toFunctions(named);
}

/**
 * `required` or a tool name forces a call in the turn that answers a person. After tool results the model
 * answers freely, or a ReAct loop would call tools until its recursion limit.
 */
function forcedCall(req: ModelRequest): boolean {
  const choice = req.toolChoice ?? 'auto';
  if (choice === 'auto' || choice === 'none' || !req.tools.length) return false;
  return req.messages.at(-1)?.type === 'human';
}

/**
 * The chat template of the model, with generation starting inside a function call: node-llama-cpp then lets the
 * grammar pick a function name and its JSON arguments. Templates that already open turns with a call are kept.
 */
function forceFunctionCall(llama: LlamaModule, inner: ChatWrapper): ChatWrapper {
  const wrapper = Object.create(inner) as ChatWrapper;
  wrapper.generateContextState = (options) => {
    const state = inner.generateContextState(options);
    if (state.functionCall || state.ignoreStartText || !options.availableFunctions) return state;
    const prefix = inner.settings.functions.call.prefix;
    const triggers = state as ChatWrapperGeneratedPrefixTriggersContextState;
    return { ...triggers, prefixTriggers: undefined, noPrefixTrigger: { type: 'functionCall', inject: llama.LlamaText(prefix) } };
  };
  return wrapper;
}
