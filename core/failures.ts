// Every failure type the runtime throws (the `type` of an ApplicationFailure), one closed set. Workflows, activities
// and the API all name them from here. The values are part of recorded workflow histories and of runs' stored
// `error` field, so they never change: add new ones, never rename. Pure data, so workflow code may import it.

export const FailureType = {
  // Refusals of the thread workflow's validators and handlers: the API answers them with a 4xx.
  threadBusy: 'ThreadBusy',
  notInterrupted: 'NotInterrupted',
  unknownInterrupt: 'UnknownInterrupt',
  invalidDecision: 'InvalidDecision',
  invalidCommand: 'InvalidCommand',
  invalidUpdate: 'InvalidUpdate',
  checkpointNotFound: 'CheckpointNotFound',
  threadNotFound: 'ThreadNotFound',
  // Bookkeeping that found the world moved on: no retry can fix these.
  staleHead: 'StaleHead',
  runNotActive: 'RunNotActive',
  // A run that cannot go on: its error names the type.
  invalidGraphState: 'InvalidGraphState',
  recursionLimit: 'GraphRecursionError',
  modelError: 'ModelError',
  /** Retried by Temporal (429, 5xx, network); a run ends with it only once the retries are used up. */
  modelUnavailable: 'ModelUnavailable',
  fatalTool: 'FatalToolError',
  /** Retried; once the tool's attempts are used up its last error is reported to the model instead. */
  toolFailed: 'ToolFailed',
  // Guardrail middleware: a run naming middleware this worker lacks, and built-ins that end a run by refusing.
  middlewareNotRegistered: 'MiddlewareNotRegistered',
  piiDetected: 'PIIDetectionError',
  modelCallLimit: 'ModelCallLimitExceededError',
  toolCallLimit: 'ToolCallLimitExceededError',
  moderation: 'OpenAIModerationError',
  spendCap: 'SpendCapExceededError',
  // Webhook delivery.
  webhookRefused: 'WebhookRefused',
  webhookUnavailable: 'WebhookUnavailable',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

const all: ReadonlySet<string> = new Set(Object.values(FailureType));
export const isFailureType = (type: string | null | undefined): type is FailureType => !!type && all.has(type);

/** Failures no retry can fix: every activity kind lists them as non-retryable. */
export const permanentFailures: FailureType[] = [
  FailureType.staleHead,
  FailureType.runNotActive,
  FailureType.threadNotFound,
  FailureType.invalidUpdate,
  FailureType.checkpointNotFound,
];

/**
 * Attempts of a tool activity. The tool activity owns the rule "retry, then report the error to the model": it
 * reports a tool's own error on its last attempt at the latest, so what fails a tool activity for good is only
 * what the activity could not report (timeouts, crashes).
 */
export const TOOL_ACTIVITY_ATTEMPTS = 5;

/** Temporal's own type for an update the server rejected before the workflow saw it (not one of ours). */
export const UNPROCESSED_UPDATE = 'UnprocessedUpdate';
