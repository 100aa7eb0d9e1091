export { taskWorkflow } from './task.workflow';
export { taskWebhooksWorkflow } from './webhooks.workflow';
