// Every patch id of the workflow code, in one place. A patch marks a change that histories recorded before it
// must replay around (`patched(id)` is false for them); an id is never reused or removed while such threads may
// still be parked. Record a fixture for the new path of each one (test/fixtures/histories).
export const Patch = {
  /**
   * The thread workflow is the one writer of run lifecycle: runs are recorded at admission, carried across
   * continue-as-new by id, and a long run continues as new between steps. Checked once, when a workflow starts.
   */
  lifecycle: 'run-lifecycle-owned-by-workflow',
  /** One review interrupt per model turn, listing every reviewed call (agent-chat-ui, LangChain's HITL middleware). */
  reviewBatch: 'review-one-interrupt-per-turn',
  /** A head waiting on __start__ applies the input recorded there. */
  replayInput: 'replay-input-checkpoint',
  /** Guardrail middleware: before_* and after_* hooks as checkpointed steps around the model (runs that name middleware). */
  middleware: 'middleware-hook-steps',
  /** A `task` tool call runs its subagent as a child workflow (before: an unknown tool, answered with an error). */
  subagents: 'task-call-runs-subagent-child-workflow',
  /** A run with input starts and commits its input in one local activity (beginRun) instead of two: one round trip less. */
  beginRun: 'begin-run-one-activity',
  /** A run admitted on an idle thread, to start at once, is recorded and begun in one local activity (claimAndBeginRun). */
  admitBegin: 'admit-and-begin-one-activity',
  /**
   * The model activity runs the step's before_model, after_model and after_agent phases (each still its own
   * checkpoints) instead of a local activity per phase: issue #12's overhead of middleware on a run.
   */
  hooksInModel: 'hook-phases-in-model-activity',
  /**
   * A middleware step hook may pause the thread (ctx.interrupt): a head whose next is a hook node waits on a person,
   * and a resume runs that phase again from the hook. Before, such a head was an invalid graph state.
   */
  hookInterrupts: 'step-hook-interrupts',
  /**
   * The model turn that ends the graph also ends the run (its status, end marker and the thread's status) in its
   * activity, instead of a finishRun local activity after it: the waiting client has its answer a workflow task sooner.
   */
  finishInModel: 'finish-run-in-model-activity',
} as const;
