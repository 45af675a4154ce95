// LangChain-format message dicts, as `BaseMessage.toDict()` serializes them and the SDK and agent-chat-ui read them.
// Pure code: imported by workflows, activities and the API alike.

export const MessageType = {
  human: 'human',
  ai: 'ai',
  tool: 'tool',
  system: 'system',
  remove: 'remove',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const REMOVE_ALL_MESSAGES = '__remove_all__';

export type MessageContent = string | Record<string, unknown>[];

export interface ToolCall {
  name: string;
  args: Record<string, unknown>;
  id: string;
  type: 'tool_call';
}

export interface Message {
  type: MessageType | string;
  content: MessageContent;
  id: string;
  additional_kwargs: Record<string, unknown>;
  response_metadata: Record<string, unknown>;
  name?: string;
  tool_calls?: ToolCall[];
  invalid_tool_calls?: unknown[];
  usage_metadata?: { input_tokens: number; output_tokens: number; total_tokens: number };
  tool_call_id?: string;
  status?: 'success' | 'error';
  artifact?: unknown;
}

const roleToType: Record<string, string> = {
  user: 'human',
  human: 'human',
  assistant: 'ai',
  ai: 'ai',
  system: 'system',
  tool: 'tool',
  remove: 'remove',
};

export class MessageFormatError extends Error {
  override name = 'MessageFormatError';
}

/** Accepts role-style, type-style, or plain-string messages and returns the canonical dict with an id. */
export function coerceMessage(raw: unknown, newId: () => string): Message {
  if (typeof raw === 'string') return humanMessage(raw, newId());
  if (Array.isArray(raw) && raw.length === 2 && typeof raw[0] === 'string') {
    return coerceMessage({ role: raw[0], content: raw[1] }, newId);
  }
  if (!raw || typeof raw !== 'object') throw new MessageFormatError('a message must be a string or an object');
  const m = raw as Record<string, unknown>;
  const kind = typeof m.type === 'string' ? m.type : typeof m.role === 'string' ? m.role : undefined;
  const type = kind ? roleToType[kind.replace(/MessageChunk$|Message$/i, '').toLowerCase()] : undefined;
  if (!type) throw new MessageFormatError(`unknown message type ${JSON.stringify(kind ?? null)}`);
  const content = m.content ?? '';
  if (typeof content !== 'string' && !Array.isArray(content))
    throw new MessageFormatError('message content must be a string or an array of blocks');
  const out: Message = {
    content: content as MessageContent,
    additional_kwargs: isRecord(m.additional_kwargs) ? m.additional_kwargs : {},
    response_metadata: isRecord(m.response_metadata) ? m.response_metadata : {},
    type,
    id: typeof m.id === 'string' && m.id ? m.id : newId(),
  };
  if (typeof m.name === 'string') out.name = m.name;
  if (type === 'ai') {
    out.tool_calls = Array.isArray(m.tool_calls) ? m.tool_calls.map((c, i) => coerceToolCall(c, i, out.id)) : [];
    out.invalid_tool_calls = Array.isArray(m.invalid_tool_calls) ? m.invalid_tool_calls : [];
    if (isRecord(m.usage_metadata)) out.usage_metadata = m.usage_metadata as Message['usage_metadata'];
  }
  if (type === 'tool') {
    if (typeof m.tool_call_id !== 'string') throw new MessageFormatError('a tool message needs tool_call_id');
    out.tool_call_id = m.tool_call_id;
    if (m.status === 'success' || m.status === 'error') out.status = m.status;
    if (m.artifact !== undefined) out.artifact = m.artifact;
  }
  return out;
}

function coerceToolCall(raw: unknown, index: number, messageId: string): ToolCall {
  if (!isRecord(raw) || typeof raw.name !== 'string') throw new MessageFormatError('a tool call needs a name');
  const args = isRecord(raw.args) ? raw.args : {};
  const id = typeof raw.id === 'string' && raw.id ? raw.id : `call_${messageId}_${index}`;
  return { name: raw.name, args, id, type: 'tool_call' };
}

export function humanMessage(content: MessageContent, id: string): Message {
  return { content, additional_kwargs: {}, response_metadata: {}, type: 'human', id };
}

export function aiMessage(content: MessageContent, id: string, toolCalls: ToolCall[] = []): Message {
  return { content, additional_kwargs: {}, response_metadata: {}, type: 'ai', id, tool_calls: toolCalls, invalid_tool_calls: [] };
}

export function toolMessage(
  content: MessageContent,
  toolCallId: string,
  name: string,
  id: string,
  status: 'success' | 'error' = 'success',
): Message {
  return { content, additional_kwargs: {}, response_metadata: {}, type: 'tool', id, tool_call_id: toolCallId, name, status };
}

/** LangGraph's messages reducer: replace by id, append the rest, honour `remove` messages and remove-all. */
export function addMessages(left: Message[], right: Message[]): Message[] {
  let merged = left.slice();
  const index = new Map(merged.map((m, i) => [m.id, i]));
  const removed = new Set<string>();
  for (const m of right) {
    if (m.type === 'remove') {
      if (m.id === REMOVE_ALL_MESSAGES) {
        merged = [];
        index.clear();
        removed.clear();
        continue;
      }
      if (!index.has(m.id)) throw new MessageFormatError(`cannot remove message ${m.id}: no such message`);
      removed.add(m.id);
      continue;
    }
    const at = index.get(m.id);
    if (at !== undefined) {
      merged[at] = m;
      removed.delete(m.id);
    } else {
      index.set(m.id, merged.length);
      merged.push(m);
    }
  }
  return removed.size ? merged.filter((m) => !removed.has(m.id)) : merged;
}

/** Plain text of a message's content, for echoing and for models that take text only. */
export function messageText(content: MessageContent): string {
  if (typeof content === 'string') return content;
  return content
    .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
    .filter(Boolean)
    .join('\n');
}

/** Tool calls of the last AI message that have no tool message answering them yet. */
export function pendingToolCalls(messages: Message[]): ToolCall[] {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.type !== 'ai') continue;
    const answered = new Set(
      messages
        .slice(i + 1)
        .filter((x) => x.type === 'tool')
        .map((x) => x.tool_call_id),
    );
    return (m.tool_calls ?? []).filter((c) => !answered.has(c.id));
  }
  return [];
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
