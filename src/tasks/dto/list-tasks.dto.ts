import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { PaginationQuery } from '../../common/pagination-query';
import { TASK_STATUSES, TaskStatus } from '../task-status';

/** `running`, `RUNNING` and `TASK_STATUS_RUNNING` all name TASK_STATUS_RUNNING. */
export const normalizeStatus = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? `TASK_STATUS_${value.toUpperCase().replace(/^TASK_STATUS_/, '')}`
    : value;

export class ListTasksQueryDto extends PaginationQuery(100, 20) {
  @ApiPropertyOptional({
    description:
      'A task status, with or without the TASK_STATUS_ prefix, in any case (`running`, ' +
      '`RUNNING` and `TASK_STATUS_RUNNING` are the same)',
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

  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9:_\\-.]{1,128}$' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9:_\-.]{1,128}$/, { message: 'Invalid session_id format' })
  @IsString({ message: 'Invalid session_id format' })
  session_id?: string;
}

export class TaskListItemDto {
  @ApiProperty() task_id!: string;
  @ApiProperty() query!: string;
  @ApiProperty({ enum: TASK_STATUSES }) status!: TaskStatus;
  @ApiProperty() mode!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Present once the task is closed' })
  completed_at?: string;
}

export class ListTasksResponseDto {
  @ApiProperty({ type: [TaskListItemDto], description: 'Newest first' })
  tasks!: TaskListItemDto[];

  @ApiProperty({ description: 'Tasks matching the filters, over all pages' })
  total_count!: number;
}
