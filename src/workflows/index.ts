export { taskWorkflow } from './task.workflow';
export { taskBatchWorkflow } from './batch.workflow';
