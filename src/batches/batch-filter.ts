import { STATUS_QUERIES } from '../tasks/status-queries';
import type { TaskStatus } from '../tasks/task-status';
import {
  SESSION_ID_ATTRIBUTE,
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
