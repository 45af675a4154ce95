import { setTimeout as sleep } from 'node:timers/promises';
import type { ScriptStep } from '../../core/agent-config.js';
import { messageText, type Message, type ToolCall } from '../../core/messages.js';
import { ModelCallError, type ModelProvider, type ModelRequest, type ModelResult } from './types.js';

// The deterministic scripted model: the offline default and the model of every test. It plays
// `configurable.script` (step i answers the turn that sees i AI messages in the thread) and, once the script
// runs out, echoes the last human message. It streams word by word, so token streaming is exercised too.

export function createScriptedProvider(): ModelProvider {
  return {
    name: 'scripted',
    async generate(req, onChunk, signal) {
      const turn = req.messages.filter((m) => m.type === 'ai').length;
      const step: ScriptStep = req.script?.[turn] ?? { content: lastHumanText(req.messages) };
      if (step.error !== undefined) throw new ModelCallError(`scripted model error: ${step.error}`, false);
      const toolCalls: ToolCall[] = (step.tool_calls ?? []).map((c, i) => ({
        name: c.name,
        args: c.args ?? {},
        id: c.id ?? `call_${turn}_${i}`,
        type: 'tool_call',
      }));
      const words = splitWords(step.content ?? '');
      const pause = (step.delay_ms ?? 0) / Math.max(1, words.length + toolCalls.length);
      for (const word of words) {
        await pauseFor(pause, signal);
        onChunk({ content: word });
      }
      for (const [index, call] of toolCalls.entries()) {
        await pauseFor(pause, signal);
        onChunk({ toolCallChunks: [{ index, id: call.id, name: call.name, args: JSON.stringify(call.args) }] });
      }
      return result(req, step.content ?? '', toolCalls, words.length);
    },
  };
}

function result(req: ModelRequest, content: string, toolCalls: ToolCall[], outputTokens: number): ModelResult {
  const inputTokens = req.messages.reduce((n, m) => n + splitWords(messageText(m.content)).length, 0);
  return {
    content,
    toolCalls,
    usage: { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
    responseMetadata: { model_name: 'scripted', finish_reason: toolCalls.length ? 'tool_calls' : 'stop' },
  };
}

function lastHumanText(messages: Message[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.type === 'human') return messageText(messages[i]!.content);
  return '';
}

/** Words keep their trailing whitespace, so the chunks concatenate back to the exact text. */
export function splitWords(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** A zero pause costs no timer turn per word: scripted runs stream as fast as the runtime can take them. */
async function pauseFor(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal });
  else signal.throwIfAborted();
}
