import type { ScriptStep } from '../../core/agent-config.js';
import type { Message, MessageContent, ToolCall } from '../../core/messages.js';

// The provider contract: one streaming call per model turn. Providers push deltas through onChunk while the
// call runs (the model activity turns them into SSE events and heartbeats) and resolve with the whole message.

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ModelRequest {
  /** Provider-specific model name, for example gpt-4o-mini. */
  model: string;
  system: string;
  messages: Message[];
  tools: ToolSpec[];
  temperature?: number;
  maxTokens?: number;
  /** `auto` (the default), `none`, `required` or a tool name. Only the local model reads this so far. */
  toolChoice?: string;
  /** Only the scripted model reads this. */
  script?: ScriptStep[];
}

export interface ToolCallChunk {
  /** Position of the call in the message; chunks with one index belong to one call. */
  index: number;
  id?: string;
  name?: string;
  /** A fragment of the JSON arguments text. */
  args?: string;
}

export interface ModelChunk {
  content?: string;
  toolCallChunks?: ToolCallChunk[];
}

export interface ModelResult {
  content: MessageContent;
  toolCalls: ToolCall[];
  usage?: { input_tokens: number; output_tokens: number; total_tokens: number };
  responseMetadata: Record<string, unknown>;
}

export interface ModelProvider {
  readonly name: string;
  /** A network vendor, whose silence longer than the stall timeout means it stalled (the local model's is its own). */
  readonly watchForStalls?: boolean;
  generate(req: ModelRequest, onChunk: (chunk: ModelChunk) => void, signal: AbortSignal): Promise<ModelResult>;
}

// Defined in core/ because the store's embeddings client fails the same way.
export { ModelCallError } from '../../core/vendor-http.js';
