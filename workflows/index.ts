// The workflows a worker registers: the bundle entry point.
export { threadWorkflow } from './thread.js';
export { sweeperWorkflow } from './sweeper.js';
export { webhookWorkflow } from './webhook.js';
export { cronFireWorkflow } from './cron.js';
export { subagentWorkflow } from './subagent.js';
