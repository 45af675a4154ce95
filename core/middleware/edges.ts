import { Node } from '../engine.js';
import { pendingToolCalls, type Message } from '../messages.js';
import { stepHooks, type JumpTarget, type StepHook } from './spec.js';

// Where the graph goes after a middleware step: its jump, else along createAgent's edges. Also used for state
// updates written as a hook node (as_node, or the last writer of a thread that ended in an after_agent step).

export function nextAfterHook(hook: StepHook, jump: JumpTarget | undefined, messages: Message[]): string[] {
  const pending = pendingToolCalls(messages).length > 0;
  if (jump === 'end' || hook === 'after_agent') return [];
  if (jump === 'model') return [Node.agent];
  if (jump === 'tools') return pending ? [Node.tools] : [Node.agent];
  if (hook === 'after_model') return pending ? [Node.tools] : messages.at(-1)?.type === 'tool' ? [Node.agent] : [];
  return [Node.agent];
}

/** The hook of a node named `<id>.<hook>`, if it is one. */
export function hookOfNode(node: string): StepHook | undefined {
  const hook = node.slice(node.lastIndexOf('.') + 1);
  return node.includes('.') && (stepHooks as readonly string[]).includes(hook) ? (hook as StepHook) : undefined;
}
