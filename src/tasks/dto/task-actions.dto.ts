import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PaginationQuery } from '../../common/pagination-query';
import { ON_TIMEOUT_POLICIES, type OnTimeout } from '../../workflows/contract';
import { TASK_ACTION_NAMES, type TaskActionName } from '../task-action';

export class ActionsQueryDto extends PaginationQuery(200, 100) {}

export class TaskActionDto {
  @ApiProperty({ enum: TASK_ACTION_NAMES, example: 'pause' }) action!: TaskActionName;
  @ApiProperty({
    description:
      'The principal (`user_id`) who did it; `system` for what the task did by itself: a pause ' +
      'deadline that passed (`pause_timeout`), an approval request that expired (`approve` or ' +
      '`reject`)',
    example: 'alice',
  })
  actor!: string;
  @ApiProperty({
    description: 'The name of the API key used (never the key); "" for system',
    example: 'ops-console',
  })
  key_name!: string;
  @ApiProperty({ example: 'Waiting for legal review' }) reason!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:02.000Z' }) at!: string;
  @ApiProperty({
    description: 'The X-Request-ID of the request that did it; "" for system',
    example: '7f1c9e0a-3b2d-4c5e-8f6a-1b2c3d4e5f60',
  })
  request_id!: string;
  @ApiProperty({
    description: 'The W3C trace id it ran under; "" for system',
    example: '4bf92f3577b34da6a3ce929d0e0e4736',
  })
  trace_id!: string;
  @ApiPropertyOptional({
    description: 'Batch actions: the batch',
    example: 'batch_0f6b7a5e-2c1d-4f7e-9a51-3b8e2d4c6a10',
  })
  batch_id?: string;
  @ApiPropertyOptional({
    description: '`approve` and `reject`: the approval decided (`apr_<task_id>_<checkpoint>`)',
    example: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis',
  })
  approval_id?: string;
  @ApiPropertyOptional({
    type: 'integer',
    description: 'A pause with a deadline: its length in seconds',
    example: 3600,
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
  @ApiProperty({ description: 'Actions in this page', example: 1 }) count!: number;
}
