import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal';
import { InvalidInputError } from '../common/domain-error';
import { TaskVisibility, type VisibleTask } from '../temporal/task-visibility';
import {
  SESSION_ID_ATTRIBUTE,
  TASK_WORKFLOW_TYPE,
  TENANT_ID_ATTRIBUTE,
} from '../workflows/contract';
import { TaskNotFoundError } from './errors';
import { InvalidCursorError, decodeCursor, encodeCursor, type ListFilters } from './list-cursor';
import {
  collectNewest,
  nextWindowHint,
  positionOf,
  type ListPosition,
  type RangeReader,
  type RangeQuery,
} from './list-window';
import { statusOf } from './task-history';
import { STATUS_QUERIES } from './status-queries';
import type { TaskStatus } from './task-status';
import { TasksService } from './tasks.service';

export interface ListTasksRequest {
  status?: TaskStatus;
  sessionId?: string;
  limit: number;
  offset: number;
  cursor?: string;
}

export interface ListedTask {
  taskId: string;
  query: string;
  status: TaskStatus;
  mode: string;
  createdAt: Date;
  closedAt?: Date;
}

export interface TaskListPage {
  tasks: ListedTask[];
  totalCount: number;
  /** Present when more tasks follow this page. */
  nextCursor?: string;
}

/** A closed task's status as visibility recorded its close; undefined while open. */
function closedStatus(task: VisibleTask): TaskStatus | undefined {
  switch (task.status) {
    case 'COMPLETED':
      return 'TASK_STATUS_COMPLETED';
    case 'FAILED':
    case 'TERMINATED':
      return 'TASK_STATUS_FAILED';
    case 'CANCELLED':
      return 'TASK_STATUS_CANCELLED';
    case 'TIMED_OUT':
      return 'TASK_STATUS_TIMEOUT';
    case 'RUNNING':
    case 'CONTINUED_AS_NEW':
      return undefined;
  }
}

/** An open task's status as the workflow last recorded it in visibility. */
function recordedStatus(task: VisibleTask): TaskStatus {
  if (task.recordedStatus === 'PAUSED') return 'TASK_STATUS_PAUSED';
  return task.recordedStatus === 'RUNNING' ? 'TASK_STATUS_RUNNING' : 'TASK_STATUS_QUEUED';
}

/** RFC 3339 with nanoseconds, as visibility queries take a time. */
export function formatNanos(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/**
 * The tenant's tasks, newest first by creation (ties by task ID), a page at a time.
 *
 * A page reads one narrow window of execution times from visibility (src/tasks/list-window.ts)
 * instead of every task, counts the matches with Temporal's count API, and reads each open task
 * on the page as GET does, so that both report the same status.
 */
@Injectable()
export class TaskListService {
  constructor(
    private readonly visibility: TaskVisibility,
    private readonly tasks: TasksService,
  ) {}

  async list(principal: Principal, request: ListTasksRequest): Promise<TaskListPage> {
    const filters: ListFilters = { status: request.status, sessionId: request.sessionId };
    const after = request.cursor ? this.readCursor(principal, filters, request.cursor) : undefined;
    const query = visibilityQuery(principal.tenantId, filters);

    const total = this.visibility.count(query);
    // Awaited below; a failure of the list first must not leave this rejection unhandled.
    total.catch(() => undefined);
    // Past the end there is nothing to read but the count.
    if (request.offset > 0 && request.offset >= (await total)) {
      return { tasks: [], totalCount: await total };
    }
    const need = request.offset + request.limit + 1;
    const found = await collectNewest(this.reader(query), {
      after: after?.position,
      need,
      hintNs: request.offset === 0 ? after?.hintNs : undefined,
    });
    const page = found.slice(request.offset, request.offset + request.limit);
    const more = found.length > request.offset + request.limit;
    const [totalCount, tasks] = await Promise.all([
      total,
      Promise.all(page.map((task) => this.listed(principal, task))),
    ]);
    const last = page.at(-1);
    return {
      tasks,
      totalCount,
      nextCursor:
        more && last
          ? encodeCursor({
              tenantId: principal.tenantId,
              filters,
              after: positionOf(last),
              hintNs: nextWindowHint(page, found[request.offset + request.limit]),
            })
          : undefined,
    };
  }

  /** Where the cursor points, once it is known to be this caller's, for these filters. */
  private readCursor(
    principal: Principal,
    filters: ListFilters,
    text: string,
  ): { position: ListPosition; hintNs?: bigint } {
    let cursor;
    try {
      cursor = decodeCursor(text);
    } catch (err) {
      if (err instanceof InvalidCursorError) {
        throw new InvalidInputError('Invalid cursor parameter');
      }
      throw err;
    }
    if (cursor.tenantId !== principal.tenantId) {
      throw new InvalidInputError('Invalid cursor parameter');
    }
    if (
      cursor.filters.status !== filters.status ||
      cursor.filters.sessionId !== filters.sessionId
    ) {
      throw new InvalidInputError(
        'Invalid cursor parameter: use the status and session_id of the page that returned it',
      );
    }
    return { position: cursor.after, hintNs: cursor.hintNs };
  }

  private reader(query: string): RangeReader<VisibleTask> {
    return async (range, pageSize, nextPageToken) => {
      const page = await this.visibility.page(withRange(query, range), pageSize, nextPageToken);
      return { items: page.tasks, nextPageToken: page.nextPageToken };
    };
  }

  /**
   * A closed task as visibility recorded it (final); an open one as GET reads it, since
   * visibility trails the workflow and only a worker updates the recorded status.
   */
  private async listed(principal: Principal, task: VisibleTask): Promise<ListedTask> {
    const listed: ListedTask = {
      taskId: task.taskId,
      query: task.query,
      mode: task.mode,
      createdAt: task.startTime,
      closedAt: task.closeTime,
      status: closedStatus(task) ?? recordedStatus(task),
    };
    if (task.status !== 'RUNNING') return listed;
    try {
      const snapshot = await this.tasks.get(principal, task.taskId);
      return { ...listed, status: statusOf(snapshot), closedAt: snapshot.closedAt };
    } catch (err) {
      // Deleted since visibility listed it (retention): answer what visibility knew.
      if (err instanceof TaskNotFoundError) return listed;
      throw err;
    }
  }
}

/** Tenant and session IDs are restricted to [A-Za-z0-9:_\-.], so they need no quoting. */
function visibilityQuery(tenantId: string, filters: ListFilters): string {
  const clauses = [
    `WorkflowType = '${TASK_WORKFLOW_TYPE}'`,
    `${TENANT_ID_ATTRIBUTE.name} = '${tenantId}'`,
  ];
  if (filters.sessionId) clauses.push(`${SESSION_ID_ATTRIBUTE.name} = '${filters.sessionId}'`);
  if (filters.status) clauses.push(`(${STATUS_QUERIES[filters.status as TaskStatus]})`);
  return clauses.join(' AND ');
}

/**
 * ExecutionTime, not StartTime: SQL visibility indexes execution time (by_execution_time), so
 * a narrow window is an index range; start time is only filtered row by row.
 */
function withRange(query: string, { from, to, closedOnly }: RangeQuery): string {
  const clauses = [query];
  if (closedOnly) clauses.push(`ExecutionStatus != 'Running'`);
  if (from !== undefined) clauses.push(`ExecutionTime >= '${formatNanos(from)}'`);
  if (to !== undefined) clauses.push(`ExecutionTime <= '${formatNanos(to)}'`);
  return clauses.join(' AND ');
}
