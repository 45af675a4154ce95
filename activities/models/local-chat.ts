import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, ChatModelResponse, GbnfJsonSchema } from 'node-llama-cpp';
import { isRecord, messageText, type Message, type MessageContent } from '../../core/messages.js';
import type { ToolSpec } from './types.js';

// LangChain messages and tool specs in node-llama-cpp's terms. Pure functions, so they are tested without a model.

type ModelTurn = ChatModelResponse;

/**
 * node-llama-cpp keeps a tool call, its result and the answer that follows in one model turn, so an AI message
 * after tool results continues the turn that called the tools. The history always ends with the model turn to
 * generate: an empty one after a human message, or the open turn whose tool results just arrived.
 */
export function toChatHistory(system: string, messages: Message[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = system ? [{ type: 'system', text: system }] : [];
  const awaiting = new Map<string, ChatModelFunctionCall>();
  for (const m of messages) {
    if (m.type === 'human') items.push({ type: 'user', text: messageText(m.content) });
    else if (m.type === 'system') items.push({ type: 'system', text: messageText(m.content) });
    else if (m.type === 'ai') addAiMessage(items, m, awaiting);
    else if (m.type === 'tool') addToolResult(items, m, awaiting);
  }
  if (!isOpenTurn(items.at(-1))) items.push({ type: 'model', response: [] });
  return items;
}

function addAiMessage(items: ChatHistoryItem[], m: Message, awaiting: Map<string, ChatModelFunctionCall>): void {
  const last = items.at(-1);
  const turn: ModelTurn = isOpenTurn(last) ? last : { type: 'model', response: [] };
  if (turn !== last) items.push(turn);
  const text = messageText(m.content);
  if (text) turn.response.push(text);
  for (const call of m.tool_calls ?? []) {
    // A call that never got a result (a person rejected it, say) still shows the model that it asked.
    const item: ChatModelFunctionCall = { type: 'functionCall', name: call.name, params: call.args, result: '(no result)' };
    turn.response.push(item);
    awaiting.set(call.id, item);
  }
}

function addToolResult(items: ChatHistoryItem[], m: Message, awaiting: Map<string, ChatModelFunctionCall>): void {
  const call = m.tool_call_id ? awaiting.get(m.tool_call_id) : undefined;
  if (call) {
    call.result = toolResult(m.content);
    awaiting.delete(m.tool_call_id!);
    return;
  }
  // A result whose call is not in the history (trimmed away, or written by hand) is still shown to the model.
  items.push({ type: 'user', text: `Result of ${m.name ?? 'a tool'}: ${messageText(m.content)}` });
}

function isOpenTurn(item: ChatHistoryItem | undefined): item is ModelTurn {
  if (item?.type !== 'model') return false;
  const tail = item.response.at(-1);
  return typeof tail === 'object' && tail.type === 'functionCall';
}

/** JSON results stay structured (rendered as JSON); anything else is shown as text. */
function toolResult(content: MessageContent): unknown {
  const text = messageText(content);
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function toFunctions(tools: ToolSpec[]): ChatModelFunctions | undefined {
  if (!tools.length) return undefined;
  return Object.fromEntries(tools.map((t) => [t.name, { description: t.description, params: toGbnfSchema(t.parameters) }]));
}

const scalarTypes = ['string', 'number', 'integer', 'boolean', 'null'];
const anyScalar = { type: ['string', 'number', 'boolean', 'null'] };
const copied = ['description', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'required', '$ref'];

/**
 * JSON Schema (as zod writes it) to the subset node-llama-cpp turns into a grammar. Its grammar ignores keys it
 * does not know, but reads `anyOf` and a schema with no type as `null`: those become `oneOf` and "any scalar".
 */
export function toGbnfSchema(schema: unknown): GbnfJsonSchema {
  return convert(schema) as GbnfJsonSchema;
}

function convert(s: unknown): Record<string, unknown> {
  if (!isRecord(s)) return anyScalar;
  const out: Record<string, unknown> = {};
  for (const k of copied) if (s[k] !== undefined) out[k] = s[k];
  if (isRecord(s.$defs)) out.$defs = mapValues(s.$defs, convert);
  if (s.const !== undefined) return { ...out, const: s.const };
  if (Array.isArray(s.enum)) return { ...out, enum: s.enum };
  const alternatives = Array.isArray(s.oneOf) ? s.oneOf : Array.isArray(s.anyOf) ? s.anyOf : undefined;
  if (alternatives) return { ...out, oneOf: alternatives.map(convert) };
  if (typeof s.$ref === 'string') return out;
  const types = Array.isArray(s.type) ? s.type.filter((t): t is string => typeof t === 'string') : [s.type];
  if (types.length > 1) {
    if (types.every((t) => scalarTypes.includes(String(t)))) return { ...out, type: types };
    return { ...out, oneOf: types.map((t) => convert({ ...s, type: t })) };
  }
  // JSON Schema allows `properties` without `type: object`.
  const type = types[0] ?? (isRecord(s.properties) ? 'object' : undefined);
  if (type === 'object') return { ...out, ...objectParts(s) };
  if (type === 'array') return { ...out, ...arrayParts(s) };
  if (type === 'string' && ['date-time', 'time', 'date'].includes(String(s.format))) return { ...out, type, format: s.format };
  if (typeof type === 'string' && scalarTypes.includes(type)) return { ...out, type };
  return { ...out, ...anyScalar };
}

function objectParts(s: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'object', properties: isRecord(s.properties) ? mapValues(s.properties, convert) : {} };
  if (typeof s.additionalProperties === 'boolean') out.additionalProperties = s.additionalProperties;
  else if (isRecord(s.additionalProperties)) out.additionalProperties = convert(s.additionalProperties);
  return out;
}

function arrayParts(s: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { type: 'array' };
  if (s.items !== undefined) out.items = convert(s.items);
  if (Array.isArray(s.prefixItems)) out.prefixItems = s.prefixItems.map(convert);
  return out;
}

function mapValues(o: Record<string, unknown>, f: (v: unknown) => Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
