import { isRecord } from '../../core/messages.js';
import type { Mapped } from './events.js';

// Our `messages` log events are messages-tuple records: `[message, metadata]`, either a token delta of the AI
// message being generated (it carries `tool_call_chunks`; deltas of one message share its id) or a whole
// message (inputs, tool results). The protocol wants content blocks instead: message-start, then per block
// content-block-start / -delta / -finish, then message-finish. Blocks never interleave, so a delta for another
// block finishes the current one first. Nothing marks the end of a streamed message in the log, so the caller
// closes it when the step that produced it commits (its `updates`/`values`), or when the run ends.

type Data = Record<string, unknown>;

interface Block {
  key: string;
  index: number;
  text: string;
  id: string | null;
  name: string | null;
}

interface OpenMessage {
  id: string;
  node: string | undefined;
  active: Block | null;
  nextIndex: number;
  toolUse: boolean;
}

export class MessageAssembler {
  private open: OpenMessage | null = null;

  push(data: unknown): Mapped[] {
    if (!Array.isArray(data) || !isRecord(data[0]) || typeof data[0].id !== 'string') return [];
    const [msg, meta] = [data[0], isRecord(data[1]) ? data[1] : {}];
    const node = typeof meta.langgraph_node === 'string' ? meta.langgraph_node : undefined;
    if (Array.isArray(msg.tool_call_chunks)) return this.delta(msg, node, meta);
    return [...this.close(), ...wholeMessage(msg, node, meta)];
  }

  /** Finishes the message being streamed, if any. */
  close(): Mapped[] {
    const m = this.open;
    if (!m) return [];
    this.open = null;
    const out = m.active ? [finishBlock(m.node, m.active)] : [];
    out.push(ev(m.node, { event: 'message-finish', reason: m.toolUse ? 'tool_use' : 'stop' }));
    return out;
  }

  private delta(msg: Data, node: string | undefined, meta: Data): Mapped[] {
    const out: Mapped[] = [];
    if (this.open?.id !== msg.id) {
      out.push(...this.close());
      this.open = { id: msg.id as string, node, active: null, nextIndex: 0, toolUse: false };
      out.push(ev(node, startData(msg, meta)));
    }
    const m = this.open!;
    const text = textOf(msg.content);
    if (text) out.push(...this.append(m, 'text', { text }));
    for (const c of msg.tool_call_chunks as unknown[]) {
      if (!isRecord(c)) continue;
      m.toolUse = true;
      out.push(...this.append(m, `tool:${String(c.index ?? 0)}`, { args: str(c.args) ?? '', id: str(c.id), name: str(c.name) }));
    }
    return out;
  }

  private append(m: OpenMessage, key: string, piece: { text?: string; args?: string; id?: string | null; name?: string | null }): Mapped[] {
    const out: Mapped[] = [];
    if (m.active?.key !== key) {
      if (m.active) out.push(finishBlock(m.node, m.active));
      m.active = { key, index: m.nextIndex++, text: '', id: piece.id ?? null, name: piece.name ?? null };
      const content =
        key === 'text' ? { type: 'text', text: '' } : { type: 'tool_call_chunk', id: m.active.id, name: m.active.name, args: '' };
      out.push(ev(m.node, { event: 'content-block-start', index: m.active.index, content }));
    }
    const b = m.active;
    b.id ??= piece.id ?? null;
    b.name ??= piece.name ?? null;
    const chunk = piece.text ?? piece.args ?? '';
    if (!chunk) return out;
    b.text += chunk;
    const delta = key === 'text' ? { type: 'text-delta', text: chunk } : { type: 'tool-call-delta', args: chunk };
    out.push(ev(m.node, { event: 'content-block-delta', index: b.index, delta }));
    return out;
  }
}

function finishBlock(node: string | undefined, b: Block): Mapped {
  return ev(node, {
    event: 'content-block-finish',
    index: b.index,
    content: b.key === 'text' ? { type: 'text', text: b.text } : toolCall(b),
  });
}

/** A finished chunk becomes a tool_call with parsed args, or an invalid_tool_call when they are not JSON. */
function toolCall(b: Block): Data {
  try {
    const args: unknown = b.text ? JSON.parse(b.text) : {};
    if (isRecord(args)) return { type: 'tool_call', id: b.id, name: b.name ?? '', args };
    return { type: 'invalid_tool_call', id: b.id, name: b.name, args: b.text, error: 'tool call arguments are not a JSON object' };
  } catch (err) {
    return { type: 'invalid_tool_call', id: b.id, name: b.name, args: b.text, error: (err as Error).message };
  }
}

/** A complete message is replayed as a whole: each block starts, carries its full text once, and finishes. */
function wholeMessage(msg: Data, node: string | undefined, meta: Data): Mapped[] {
  const out = [ev(node, startData(msg, meta))];
  const blocks = contentBlocks(msg.content);
  const calls = Array.isArray(msg.tool_calls) ? msg.tool_calls.filter(isRecord) : [];
  for (const c of calls) blocks.push({ type: 'tool_call', id: str(c.id), name: str(c.name) ?? '', args: isRecord(c.args) ? c.args : {} });
  blocks.forEach((block, index) => {
    const text = block.type === 'text' ? String(block.text ?? '') : null;
    out.push(ev(node, { event: 'content-block-start', index, content: text === null ? block : { type: 'text', text: '' } }));
    if (text) out.push(ev(node, { event: 'content-block-delta', index, delta: { type: 'text-delta', text } }));
    out.push(ev(node, { event: 'content-block-finish', index, content: block }));
  });
  out.push(ev(node, { event: 'message-finish', reason: calls.length ? 'tool_use' : 'stop' }));
  return out;
}

function contentBlocks(content: unknown): Data[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) return [];
  return content.flatMap((c): Data[] => (typeof c === 'string' ? [{ type: 'text', text: c }] : isRecord(c) ? [c] : []));
}

// Protocol metadata key <- messages-tuple metadata key.
const metadataKeys = { provider: 'ls_provider', model: 'ls_model_name', run_id: 'run_id', thread_id: 'thread_id' } as const;

function startData(msg: Data, meta: Data): Data {
  const metadata = Object.fromEntries(
    Object.entries(metadataKeys)
      .filter(([, from]) => typeof meta[from] === 'string')
      .map(([to, from]) => [to, meta[from]]),
  );
  return { event: 'message-start', role: roleOf(msg.type), id: msg.id, ...(Object.keys(metadata).length ? { metadata } : {}) };
}

// The protocol names roles ai/human/system; tool results keep their own type, as the reference server does.
function roleOf(type: unknown): string {
  if (type === 'AIMessageChunk' || type === 'assistant') return 'ai';
  if (type === 'user') return 'human';
  return typeof type === 'string' ? type : 'ai';
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return contentBlocks(content)
    .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
    .join('');
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const ev = (node: string | undefined, data: Data): Mapped => ({ method: 'messages', data, ...(node ? { node } : {}) });
