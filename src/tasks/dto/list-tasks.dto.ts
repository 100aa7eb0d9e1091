import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PaginationQuery } from '../../common/pagination-query';
import { TASK_STATUSES, TaskStatus } from '../task-status';
import { ID_PATTERN } from '../../common/ids';
import type { TaskListPage } from '../task-list.service';

const CURSOR_MAX_LENGTH = 1024;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** `running`, `RUNNING` and `TASK_STATUS_RUNNING` all name TASK_STATUS_RUNNING. */
export const normalizeStatus = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? `TASK_STATUS_${value.toUpperCase().replace(/^TASK_STATUS_/, '')}`
    : value;

export const LIST_DEFAULT_LIMIT = 20;

export class ListTasksQueryDto extends PaginationQuery(100, LIST_DEFAULT_LIMIT) {
  @ApiPropertyOptional({
    description:
      'A task status, with or without the TASK_STATUS_ prefix, in any case (`running`, ' +
      '`RUNNING` and `TASK_STATUS_RUNNING` are the same). Matched against the state ' +
      "Temporal's visibility store recorded, which trails changes by a fraction of a second; " +
      'open states are recorded by the worker running the task, so a task paused before any ' +
      'worker picked it up matches `queued`. Each listed task shows its current status, as ' +
      'GET /api/v1/tasks/{id} does.',
    type: String,
    enum: [
      ...TASK_STATUSES,
      ...TASK_STATUSES.map((s) => s.replace('TASK_STATUS_', '').toLowerCase()),
    ],
    example: 'running',
  })
  @IsOptional()
  @Transform(normalizeStatus)
  @IsIn(TASK_STATUSES, { message: 'Invalid status value' })
  status?: TaskStatus;

  @ApiPropertyOptional({ pattern: ID_PATTERN.source })
  @IsOptional()
  @Matches(ID_PATTERN, { message: 'Invalid session_id format' })
  @IsString({ message: 'Invalid session_id format' })
  session_id?: string;

  @ApiPropertyOptional({
    description:
      'Where to continue: the `next_cursor` of the previous page. Give it with the same ' +
      '`status` and `session_id` as that page. Walking a list by cursor returns every task ' +
      'listed when the walk began exactly once, newest first, however many tasks are ' +
      'submitted meanwhile (they are newer, so they come before the cursor). `offset` then ' +
      'counts from the cursor.',
    type: String,
    maxLength: CURSOR_MAX_LENGTH,
    pattern: CURSOR_PATTERN.source,
  })
  @IsOptional()
  @MaxLength(CURSOR_MAX_LENGTH, { message: 'Invalid cursor parameter' })
  @Matches(CURSOR_PATTERN, { message: 'Invalid cursor parameter' })
  @IsString({ message: 'Invalid cursor parameter' })
  cursor?: string;
}

export class TaskListItemDto {
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' }) task_id!: string;
  @ApiProperty({ example: 'Summarize the quarterly report' }) query!: string;
  @ApiProperty({ enum: TASK_STATUSES, example: 'TASK_STATUS_RUNNING' }) status!: TaskStatus;
  @ApiProperty({ example: 'standard' }) mode!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' }) created_at!: string;
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Present once the task is closed',
    example: '2026-01-01T00:00:09.000Z',
  })
  completed_at?: string;
}

export class ListTasksResponseDto {
  @ApiProperty({ type: [TaskListItemDto], description: 'Newest first' })
  tasks!: TaskListItemDto[];

  @ApiProperty({
    description:
      'Tasks matching the filters, over all pages, as Temporal counts them at the time of ' +
      'the request',
    example: 1,
  })
  total_count!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Give as `cursor` for the next page; null on the last page. Opaque: valid only for the ' +
      'same tenant and filters.',
    example: null,
  })
  next_cursor!: string | null;
}

/** The body of `GET /api/v1/tasks` for one page of the list. */
export function toListTasksResponse(page: TaskListPage): ListTasksResponseDto {
  return {
    tasks: page.tasks.map((task) => ({
      task_id: task.taskId,
      query: task.query,
      status: task.status,
      mode: task.mode,
      created_at: task.createdAt.toISOString(),
      ...(task.closedAt && { completed_at: task.closedAt.toISOString() }),
    })),
    total_count: page.totalCount,
    next_cursor: page.nextCursor ?? null,
  };
}
