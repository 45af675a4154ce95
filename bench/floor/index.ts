import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { workerTuning } from '../../worker/create.js';
import { floorActivities, type FloorStep } from './activities.js';
import type { floorWorkflow } from './workflow.js';

// A worker for the floor workflow on its own task queue, with the runtime's worker tuning, and a client to run it.

export interface Floor {
  run(script: FloorStep[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startFloor(address: string): Promise<Floor> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflow.ts', import.meta.url)),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const taskQueue = `floor-${randomBytes(6).toString('hex')}`;
  const workerConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: workerConnection,
    taskQueue,
    workflowBundle: { code },
    activities: floorActivities,
    ...workerTuning,
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    run: (script) =>
      client.workflow.execute<typeof floorWorkflow>('floorWorkflow', {
        taskQueue,
        workflowId: `floor-${randomBytes(8).toString('hex')}`,
        args: [{ script, prompt: 'go' }],
      }),
    async stop() {
      worker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
    },
  };
}
