import { TASK_STATUS_ATTRIBUTE } from '../workflows/contract';
import type { TaskStatus } from './task-status';

const TASK_STATUS = TASK_STATUS_ATTRIBUTE.name;

/**
 * What each status filter asks visibility. Closed states are Temporal's own and final. The open
 * ones rest on the `TaskStatus` search attribute, which only the workflow sets: absent until a
 * worker first runs the task, then RUNNING, or PAUSED from the moment the workflow has taken a
 * pause in until it takes the resume. A task paused before any worker ran it is therefore
 * matched by `queued` (and listed with its true status, paused).
 */
export const STATUS_QUERIES: Record<TaskStatus, string> = {
  TASK_STATUS_QUEUED: `ExecutionStatus = 'Running' AND ${TASK_STATUS} IS NULL`,
  TASK_STATUS_RUNNING: `ExecutionStatus = 'Running' AND ${TASK_STATUS} = 'RUNNING'`,
  TASK_STATUS_PAUSED: `ExecutionStatus = 'Running' AND ${TASK_STATUS} = 'PAUSED'`,
  TASK_STATUS_COMPLETED: `ExecutionStatus = 'Completed'`,
  TASK_STATUS_FAILED: `ExecutionStatus IN ('Failed', 'Terminated')`,
  TASK_STATUS_CANCELLED: `ExecutionStatus = 'Canceled'`,
  TASK_STATUS_TIMEOUT: `ExecutionStatus = 'TimedOut'`,
};
