import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { workflowsPath } from '../../worker/create.js';

// A test-only fault hook: the workflow task fails right after a chosen local activity has committed its write,
// as when a worker dies between the activity's completion and the task's. The local activity's result never
// reaches history, so the retried task runs the activity again. A chosen activity of another kind fails its
// attempt after its commit instead (its report lost), so Temporal runs that again. Node side: marks the result of the first run
// of each armed activity type per workflow run; workflow side (fault-interceptors.ts) fails the activation.

const MARK = '__injectedWorkflowTaskFault';

export class TaskFaults {
  private readonly armed = new Map<string, Set<string>>();
  private readonly fired = new Set<string>();
  /** `workflowId/activityType` of every fault injected so far. */
  readonly injected: string[] = [];

  /**
   * Per run of the workflow, after the first run of each of these activities: a local one has its workflow task
   * failed (its result is lost with it), any other kind fails its attempt after its commit (Temporal runs it again).
   */
  arm(workflowId: string, activityTypes: string[]): void {
    this.armed.set(workflowId, new Set(activityTypes));
  }

  injectedInto(workflowId: string): string[] {
    return this.injected.filter((k) => k.startsWith(`${workflowId}/`)).map((k) => k.slice(workflowId.length + 1));
  }

  readonly interceptor: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      execute: async (input, next) => {
        const result = await next(input);
        const { workflowExecution: wf, activityType, isLocal } = ctx.info;
        const key = `${wf?.workflowId}/${wf?.runId}/${activityType}`;
        if (!wf || !this.armed.get(wf.workflowId)?.has(activityType) || this.fired.has(key)) return result;
        this.fired.add(key);
        this.injected.push(`${wf.workflowId}/${activityType}`);
        if (!isLocal) throw new Error(`injected: ${activityType} failed after its commit`);
        return { [MARK]: true, value: result };
      },
    },
  });
}

/** The runtime's workflows bundled with the fault interceptor, written to a temporary file. */
export async function bundleWithFaults(): Promise<string> {
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [fileURLToPath(new URL('./fault-interceptors.ts', import.meta.url))],
    logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop },
  });
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'faulty-bundle-')), 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}
