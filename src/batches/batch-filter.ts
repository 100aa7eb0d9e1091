import type { TaskStatus } from '../tasks/task-status';
import {
  SESSION_ID_ATTRIBUTE,
  TASK_STATUS_ATTRIBUTE,
  TASK_WORKFLOW_TYPE,
  TENANT_ID_ATTRIBUTE,
} from '../workflows/contract';

/** Which of a tenant's tasks a batch acts on: all of the given conditions hold. */
export interface BatchFilter {
  status?: TaskStatus;
  sessionId?: string;
  /** Created at or after. */
  createdAfter?: Date;
  /** Created before. */
  createdBefore?: Date;
  taskIds?: readonly string[];
}

const TASK_STATUS = TASK_STATUS_ATTRIBUTE.name;

/**
 * What each status asks visibility, as the list reads it: closed states are Temporal's own and
 * final; open ones rest on the `TaskStatus` search attribute the workflow keeps (absent until a
 * worker first runs the task, PAUSED from when the workflow has taken a pause in).
 */
const STATUS_QUERIES: Record<TaskStatus, string> = {
  TASK_STATUS_QUEUED: `ExecutionStatus = 'Running' AND ${TASK_STATUS} IS NULL`,
  TASK_STATUS_RUNNING: `ExecutionStatus = 'Running' AND ${TASK_STATUS} = 'RUNNING'`,
  TASK_STATUS_PAUSED: `ExecutionStatus = 'Running' AND ${TASK_STATUS} = 'PAUSED'`,
  TASK_STATUS_COMPLETED: `ExecutionStatus = 'Completed'`,
  TASK_STATUS_FAILED: `ExecutionStatus IN ('Failed', 'Terminated')`,
  TASK_STATUS_CANCELLED: `ExecutionStatus = 'Canceled'`,
  TASK_STATUS_TIMEOUT: `ExecutionStatus = 'TimedOut'`,
};

/**
 * The visibility query for a batch's filter, always confined to the caller's tenant. Tenant,
 * session and task IDs are restricted to [A-Za-z0-9:_\-.] (validated before), so they need no
 * escaping inside quotes; times are formatted here.
 */
export function batchQuery(tenantId: string, filter: BatchFilter): string {
  const clauses = [
    `WorkflowType = '${TASK_WORKFLOW_TYPE}'`,
    `${TENANT_ID_ATTRIBUTE.name} = '${tenantId}'`,
  ];
  if (filter.sessionId) clauses.push(`${SESSION_ID_ATTRIBUTE.name} = '${filter.sessionId}'`);
  if (filter.status) clauses.push(`(${STATUS_QUERIES[filter.status]})`);
  // ExecutionTime (a task's start: tasks start without delay) is what SQL visibility indexes.
  if (filter.createdAfter) {
    clauses.push(`ExecutionTime >= '${filter.createdAfter.toISOString()}'`);
  }
  if (filter.createdBefore) {
    clauses.push(`ExecutionTime < '${filter.createdBefore.toISOString()}'`);
  }
  if (filter.taskIds) {
    clauses.push(`WorkflowId IN (${filter.taskIds.map((id) => `'${id}'`).join(', ')})`);
  }
  return clauses.join(' AND ');
}
