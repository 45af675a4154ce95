import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

// Workflow side of the test-only fault hook (see faults.ts): bundled into the workflow code of tests that need it,
// never into the runtime's. When a local activity's result comes back marked, the workflow goes on with the real
// result, and the activation then fails, so the workflow task fails after the activity's write has committed.

const MARK = '__injectedWorkflowTaskFault';
let failThisActivation = false;

function unwrap(result: unknown): unknown {
  if (typeof result !== 'object' || result === null || !(MARK in result)) return result;
  failThisActivation = true;
  return (result as unknown as { value: unknown }).value;
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [{ scheduleLocalActivity: async (input, next) => unwrap(await next(input)) }],
  internals: [
    {
      concludeActivation(input, next) {
        if (!failThisActivation) return next(input);
        failThisActivation = false;
        throw new Error('injected workflow task failure after a committed local activity');
      },
    },
  ],
});
