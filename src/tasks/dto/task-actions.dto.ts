import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PaginationQuery } from '../../common/pagination-query';
import { ON_TIMEOUT_POLICIES, type OnTimeout } from '../../workflows/contract';
import { TASK_ACTION_NAMES, type TaskActionName } from '../task-action';

export class ActionsQueryDto extends PaginationQuery(200, 100) {}

export class TaskActionDto {
  @ApiProperty({ enum: TASK_ACTION_NAMES, example: 'pause' }) action!: TaskActionName;
  @ApiProperty({
    description: 'The principal (`user_id`) who did it; `system` for a pause deadline',
    example: 'alice',
  })
  actor!: string;
  @ApiProperty({ description: 'The name of the API key used (never the key); "" for system' })
  key_name!: string;
  @ApiProperty({ example: 'Waiting for legal review' }) reason!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ description: 'The X-Request-ID of the request that did it; "" for system' })
  request_id!: string;
  @ApiProperty({ description: 'The W3C trace id it ran under; "" for system' })
  trace_id!: string;
  @ApiPropertyOptional({ description: 'Batch actions: the batch' })
  batch_id?: string;
  @ApiPropertyOptional({
    type: 'integer',
    description: 'A pause with a deadline: its length in seconds',
  })
  timeout_seconds?: number;
  @ApiPropertyOptional({
    enum: ON_TIMEOUT_POLICIES,
    description: 'A pause with a deadline, and `pause_timeout`: what the deadline does',
  })
  on_timeout?: OnTimeout;
}

export class TaskActionsResponseDto {
  @ApiProperty({ type: [TaskActionDto], description: 'Oldest first' })
  actions!: TaskActionDto[];
  @ApiProperty({ description: 'Actions in this page' }) count!: number;
}
