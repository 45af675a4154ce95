import type { AgentConfig } from './agent-config.js';

// Run, thread and stream vocabulary of the Agent Server API, and the run spec the API hands to a thread workflow.

export const MultitaskStrategy = { reject: 'reject', enqueue: 'enqueue', interrupt: 'interrupt', rollback: 'rollback' } as const;
export type MultitaskStrategy = (typeof MultitaskStrategy)[keyof typeof MultitaskStrategy];

export const RunStatus = {
  pending: 'pending',
  running: 'running',
  error: 'error',
  success: 'success',
  timeout: 'timeout',
  interrupted: 'interrupted',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
export const finalRunStatuses: readonly RunStatus[] = ['error', 'success', 'timeout', 'interrupted'];

export const ThreadStatus = { idle: 'idle', busy: 'busy', interrupted: 'interrupted', error: 'error' } as const;
export type ThreadStatus = (typeof ThreadStatus)[keyof typeof ThreadStatus];

export const StreamMode = {
  values: 'values',
  updates: 'updates',
  messagesTuple: 'messages-tuple',
  messages: 'messages',
  custom: 'custom',
  events: 'events',
  debug: 'debug',
  tasks: 'tasks',
  checkpoints: 'checkpoints',
  tools: 'tools',
  lifecycle: 'lifecycle',
} as const;
export type StreamMode = (typeof StreamMode)[keyof typeof StreamMode];

export const CancelAction = { interrupt: 'interrupt', rollback: 'rollback' } as const;
export type CancelAction = (typeof CancelAction)[keyof typeof CancelAction];

export interface RunCommand {
  resume?: unknown;
  update?: Record<string, unknown> | [string, unknown][] | null;
  goto?: string[];
}

/** Which nodes to pause at; `['*']` means every node. */
export type Breakpoints = string[];

/**
 * The agent settings a run spec carries. The system prompt and the script can be megabytes: they stay in the run's
 * kwargs and the model activity reads them from there (specs admitted before that change still carry them).
 */
export type RunAgent = Omit<AgentConfig, 'systemPrompt' | 'script'> & Partial<Pick<AgentConfig, 'systemPrompt' | 'script'>>;

/**
 * Temporal refuses payloads over 2 MB and warns from 256 KiB. What a run or a state update must carry through workflow
 * history (a spec without its prompt and script, a resume value, state-update values) is refused above this size.
 */
export const HISTORY_VALUE_LIMIT_BYTES = 256 * 1024;

/**
 * Durations a run's workflow waits, taken from the configuration of the process that creates the run (so tests can
 * shorten them on the dev server). Carried by the spec: a workflow cannot read configuration.
 */
export interface RunTimers {
  /** How long a stateless run's temporary thread lingers after the run, so waiting clients can read its result. */
  statelessGraceMs: number;
  /** Webhook delivery: the first retry delay, the cap on the doubling delay, and the attempts in all. */
  webhookRetry: { initialMs: number; maximumMs: number; maximumAttempts: number };
}

/** The durations of runs admitted before they were configurable (their specs carry none); also the config defaults. */
export const defaultRunTimers: RunTimers = {
  statelessGraceMs: 60_000,
  webhookRetry: { initialMs: 1_000, maximumMs: 300_000, maximumAttempts: 20 },
};

/**
 * What a thread workflow needs to decide on and execute a run. Large payloads (the input, full config,
 * metadata) stay in the database under the run id, so workflow history carries ids, not transcripts.
 */
export interface RunSpec {
  runId: string;
  threadId: string;
  assistantId: string;
  graphId: string;
  multitaskStrategy: MultitaskStrategy;
  hasInput: boolean;
  command: RunCommand | null;
  checkpointId: string | null;
  interruptBefore: Breakpoints;
  interruptAfter: Breakpoints;
  streamModes: StreamMode[];
  afterSeconds: number;
  strictResume: boolean;
  /** `delete`: a stateless run's temporary thread goes away after the run. */
  onCompletion: 'keep' | 'delete';
  /** Receives the run as JSON when it ends (absent in runs admitted before webhooks existed). */
  webhook?: string | null;
  agent: RunAgent;
  /** Absent in runs admitted before timers were configurable: defaultRunTimers. */
  timers?: RunTimers;
  /** Set on a subagent's run (workflows/subagent.ts). */
  parent?: ParentStream;
}

/** What activities need to know about the run they serve, to stamp metadata and emit the right events. */
export interface RunContext {
  runId: string;
  threadId: string;
  assistantId: string;
  graphId: string;
  streamModes: StreamMode[];
  /** A subagent's run: its events are copied to the parent run, namespaced, when the parent streams subgraphs. */
  parent?: ParentStream;
}

export interface ParentStream {
  runId: string;
  /** LangGraph's namespace of the subgraph: `tools:<task id>`; events go out as `<mode>|<namespace>`. */
  namespace: string;
}
