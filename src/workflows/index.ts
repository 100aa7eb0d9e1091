export { taskWorkflow } from './task.workflow';
export { taskBatchWorkflow } from './batch.workflow';
export { taskWebhooksWorkflow } from './webhooks.workflow';
