import type { Client } from '@langchain/langgraph-sdk';
import type { Client as TemporalClient } from '@temporalio/client';
import { cronScheduleId } from '../../core/cron.js';
import { human } from './input.js';
import { pollUntil } from './wait.js';

// The paths of the cron fire workflow: submit and end (enqueue), and submit then follow the run to its end
// (reject). Replay tests record their histories (npm run record-cron-histories) and replay them against the code.

export interface CronScenario {
  name: string;
  /** Plays the scenario and returns the id of a finished fire workflow. */
  run(client: Client, temporal: TemporalClient): Promise<string>;
}

async function firstFire(client: Client, temporal: TemporalClient, strategy: 'enqueue' | 'reject', config: object): Promise<string> {
  const thread = await client.threads.create();
  const cron = await client.crons.createForThread(thread.thread_id, 'agent', {
    schedule: '* * * * * * *',
    input: human('tick'),
    config,
    multitaskStrategy: strategy,
  });
  const handle = temporal.schedule.getHandle(cronScheduleId(cron.cron_id));
  try {
    let workflowId = '';
    await pollUntil(
      'the cron fired',
      async () => {
        workflowId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId ?? '';
        return workflowId !== '';
      },
      { intervalMs: 100 },
    );
    await temporal.workflow.getHandle(workflowId).result();
    return workflowId;
  } finally {
    await client.crons.delete(cron.cron_id);
  }
}

export const cronScenarios: CronScenario[] = [
  {
    name: 'cron-fire-enqueue',
    run: (client, temporal) => firstFire(client, temporal, 'enqueue', { configurable: { script: [{ content: 'tock' }] } }),
  },
  {
    name: 'cron-fire-follow-run',
    run: (client, temporal) => firstFire(client, temporal, 'reject', { configurable: { script: [{ content: 'tock', delay_ms: 2_500 }] } }),
  },
];
