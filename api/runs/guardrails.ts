import { randomUUID } from 'node:crypto';
import type { AgentConfig } from '../../core/agent-config.js';
import { findGraph } from '../../core/graphs.js';
import { allDecisions, type ReviewConfig, type ReviewDecisionType } from '../../core/review.js';
import { MiddlewareError } from '../../core/middleware/define.js';
import { MiddlewareRegistry } from '../../activities/middleware/registry.js';
import { MiddlewareConfigError, parseMiddlewareEntries, type MiddlewareEntry, type MiddlewareRef } from '../../core/middleware/spec.js';
import { isRecord, type Message } from '../../core/messages.js';
import type { RunContext } from '../../core/runs.js';
import { commandUpdateValues, normalizeWrites } from '../../core/state.js';
import type { AssistantRow } from '../../db/assistants.js';
import { getPolicies, insertGuardrailEvents } from '../../db/guardrails.js';
import type { ThreadRow } from '../../db/threads.js';
import { findAssistant } from '../assistants/lookup.js';
import type { RunDeps } from '../deps.js';
import { invalid } from '../errors.js';
import { uuid7 } from '../ids.js';

// Guardrails at run creation, the one door every mode goes through (runs routes, crons, MCP, A2A, resume):
// the run's middleware is the operator's policies (outermost, not removable) then the assistant's own list,
// validated here (a 422 names the problem); input filters (PII) rewrite the input, command.update and state
// updates before anything stores them.

const builtinsOnly = new MiddlewareRegistry();
export const registryOf = (deps: Pick<RunDeps, 'middleware'>) => deps.middleware ?? builtinsOnly;

export async function withMiddleware(
  deps: RunDeps,
  agent: AgentConfig,
  settings: Record<string, unknown>,
  /** The stored policies unless given (checks before a thread exists pass none: policies were checked when stored). */
  policies?: MiddlewareEntry[],
): Promise<AgentConfig> {
  try {
    const refs = registryOf(deps).resolve(policies ?? (await getPolicies(deps.db)), parseMiddlewareEntries(settings.middleware));
    if (!refs.length) return agent;
    return { ...agent, interruptOn: { ...agent.interruptOn, ...reviewsOf(refs) }, middleware: refs };
  } catch (err) {
    if (err instanceof MiddlewareConfigError) throw invalid(err.message);
    throw err;
  }
}

/**
 * The middleware an assistant's runs get (policies first): its graph's package list, then its own config, then the
 * thread's; none of its own when that list is invalid (its runs are refused anyway).
 */
export async function assistantMiddleware(
  deps: Pick<RunDeps, 'db' | 'middleware'>,
  assistant: Pick<AssistantRow, 'graph_id' | 'config' | 'context'>,
  threadConfigurable: Record<string, unknown> = {},
): Promise<MiddlewareRef[]> {
  const policies = await getPolicies(deps.db);
  const graph = findGraph(assistant.graph_id);
  const settings = {
    ...(graph?.middleware ? { middleware: graph.middleware } : {}),
    ...(assistant.config.configurable ?? {}),
    ...threadConfigurable,
    ...assistant.context,
  };
  try {
    return registryOf(deps).resolve(policies, parseMiddlewareEntries(settings.middleware));
  } catch {
    return registryOf(deps).resolve(policies, []);
  }
}

/** human_in_the_loop's interruptOn, in interrupt_on's terms: the tools step raises its reviews. */
function reviewsOf(refs: MiddlewareRef[]): Record<string, ReviewConfig> {
  const out: Record<string, ReviewConfig> = {};
  for (const r of refs.filter((m) => m.name === 'human_in_the_loop')) {
    const on = isRecord(r.options.interruptOn) ? r.options.interruptOn : {};
    for (const [tool, v] of Object.entries(on)) {
      if (v === false) continue;
      const o = isRecord(v) ? v : {};
      Object.defineProperty(out, tool, {
        value: {
          allowedDecisions: (o.allowedDecisions as ReviewDecisionType[] | undefined) ?? [...allDecisions],
          ...(typeof o.description === 'string' ? { description: o.description } : {}),
        },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}

/** Which write a filter ran on; it names the write in guardrail_events (`input` ones stream with the run). */
export const WriteKind = { input: 'input', commandUpdate: 'command.update', stateUpdate: 'state_update' } as const;
export type WriteKind = (typeof WriteKind)[keyof typeof WriteKind];

/**
 * A write's messages with every filterInput applied (PII redaction), and a record of what fired: a run's input,
 * its command.update and a state update (POST /threads/{id}/state, supersteps) all come through here before
 * anything stores them. A `block` refuses the request with a 422.
 */
export async function filterInput(
  deps: Pick<RunDeps, 'db' | 'middleware'>,
  refs: MiddlewareRef[] | undefined,
  run: RunContext,
  write: unknown,
  kind: WriteKind = WriteKind.input,
): Promise<unknown> {
  const values = kind === WriteKind.commandUpdate ? commandUpdateValues(write) : write;
  if (!refs?.length || !isRecord(values) || values.messages === undefined) return write;
  let messages: Message[];
  try {
    messages = normalizeWrites({ messages: values.messages }, randomUUID).messages as Message[];
  } catch {
    return write; // malformed input is refused later, with the usual message
  }
  try {
    const filtered = registryOf(deps).filterInput(refs, run, messages);
    if (!filtered.fired.length) return write;
    await insertGuardrailEvents(
      deps.db,
      filtered.fired.map((f, i) => ({
        run_id: run.runId,
        thread_id: run.threadId,
        middleware: f.id,
        // A run's command.update is its input too: its record streams with the update's checkpoint.
        hook: kind === WriteKind.stateUpdate ? kind : 'input',
        action: f.action,
        message_id: f.messageId ?? null,
        detail: f.detail ?? {},
        dedupe_key: `${run.runId}/${kind}/${i}`,
      })),
    );
    return { ...values, messages: filtered.messages };
  } catch (err) {
    if (err instanceof MiddlewareError) throw invalid(err.message);
    throw err;
  }
}

/**
 * A state update outside a run goes through the middleware of the assistant the thread last ran with (runs stamp
 * it on the thread's metadata), or of its graph's default assistant, inside the operator's policies. Its record
 * in guardrail_events carries an id of its own where a run's id would be.
 */
export async function filterStateUpdate(
  deps: Pick<RunDeps, 'db' | 'middleware'>,
  thread: Pick<ThreadRow, 'thread_id' | 'metadata' | 'config'>,
  values: unknown,
): Promise<unknown> {
  const named = (k: string) => (typeof thread.metadata[k] === 'string' ? (thread.metadata[k] as string) : undefined);
  const graphId = named('graph_id');
  const assistantId = named('assistant_id');
  const assistant =
    (assistantId ? await findAssistant(deps.db, assistantId) : undefined) ?? (graphId ? await findAssistant(deps.db, graphId) : undefined);
  const threadConfigurable = isRecord(thread.config.configurable) ? thread.config.configurable : {};
  const refs = assistant
    ? await assistantMiddleware(deps, assistant, threadConfigurable)
    : registryOf(deps).resolve(await getPolicies(deps.db), []);
  const run = {
    runId: uuid7(),
    threadId: thread.thread_id,
    assistantId: assistant?.assistant_id ?? '',
    graphId: assistant?.graph_id ?? graphId ?? '',
    streamModes: [],
  };
  return filterInput(deps, refs, run, values, WriteKind.stateUpdate);
}
