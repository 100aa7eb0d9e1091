import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsObject,
  IsRFC3339,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { Omittable } from '../../common/request-validation.pipe';
import { MAX_REASON_LENGTH } from '../../tasks/dto/control-request.dto';
import { normalizeStatus } from '../../tasks/dto/list-tasks.dto';
import { ID_PATTERN } from '../../common/ids';
import { TASK_STATUSES, type TaskStatus } from '../../tasks/task-status';
import { BATCH_ACTIONS, type BatchAction } from '../../workflows/batch-contract';

export const MAX_FILTER_TASK_IDS = 1000;
const TASK_IDS_MESSAGE = `task_ids must hold 1 to ${MAX_FILTER_TASK_IDS} task IDs`;

export class BatchFilterDto {
  @ApiPropertyOptional({
    description: 'A task status as the list takes it: with or without TASK_STATUS_, any case',
    type: String,
    enum: [
      ...TASK_STATUSES,
      ...TASK_STATUSES.map((s) => s.replace('TASK_STATUS_', '').toLowerCase()),
    ],
    example: 'running',
  })
  @Omittable()
  @Transform(normalizeStatus)
  @IsIn(TASK_STATUSES, { message: 'Invalid status value' })
  status?: TaskStatus;

  @ApiPropertyOptional({ pattern: ID_PATTERN.source, example: 'nightly-reports' })
  @Omittable()
  @Matches(ID_PATTERN, { message: 'Invalid session_id format' })
  @IsString({ message: 'Invalid session_id format' })
  session_id?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Tasks created at or after this time (RFC 3339)',
  })
  @Omittable()
  @IsRFC3339({ message: 'created_after must be an RFC 3339 date-time' })
  @IsString({ message: 'created_after must be an RFC 3339 date-time' })
  created_after?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Tasks created before this time (RFC 3339)',
  })
  @Omittable()
  @IsRFC3339({ message: 'created_before must be an RFC 3339 date-time' })
  @IsString({ message: 'created_before must be an RFC 3339 date-time' })
  created_before?: string;

  @ApiPropertyOptional({
    type: [String],
    minItems: 1,
    maxItems: MAX_FILTER_TASK_IDS,
    items: { type: 'string', pattern: ID_PATTERN.source },
    description: "Only these tasks (those of them that are the caller's)",
  })
  @Omittable()
  @Matches(ID_PATTERN, { each: true, message: 'task_ids holds an invalid task ID' })
  @IsString({ each: true, message: 'task_ids holds an invalid task ID' })
  @ArrayMaxSize(MAX_FILTER_TASK_IDS, { message: TASK_IDS_MESSAGE })
  @ArrayMinSize(1, { message: TASK_IDS_MESSAGE })
  @IsArray({ message: TASK_IDS_MESSAGE })
  task_ids?: string[];
}

/** The filter's fields, at least one of which a request must give. */
export const FILTER_FIELDS = [
  'status',
  'session_id',
  'created_after',
  'created_before',
  'task_ids',
] as const;

export class BatchRequestDto {
  @ApiProperty({ enum: BATCH_ACTIONS, example: 'pause' })
  @IsIn(BATCH_ACTIONS, { message: 'action must be one of pause, resume, cancel' })
  action!: BatchAction;

  @ApiProperty({
    // One of its fields given at least (the controller checks the same).
    anyOf: FILTER_FIELDS.map((field) => ({ required: [field] })),
    description:
      "At least one condition; every one given must hold. Only the caller's tenant is ever " +
      'matched.',
    example: { session_id: 'nightly-reports', status: 'running' },
  })
  @ValidateNested()
  @Type(() => BatchFilterDto)
  @IsObject({ message: 'filter must be an object' })
  @IsDefined({ message: 'filter is required' })
  filter!: BatchFilterDto;

  @ApiPropertyOptional({
    maxLength: MAX_REASON_LENGTH,
    description: "Recorded with the action on each task, as a pause's reason is",
    example: 'Maintenance window',
  })
  @Omittable()
  @MaxLength(MAX_REASON_LENGTH, {
    message: `reason must be at most ${MAX_REASON_LENGTH} characters`,
  })
  @IsString({ message: 'reason must be a string' })
  reason?: string;

  @ApiPropertyOptional({
    default: false,
    description: 'Only count the tasks the filter matches (200 `{"matched"}`); nothing is sent',
    example: true,
  })
  @Omittable()
  @IsBoolean({ message: 'dry_run must be true or false' })
  dry_run?: boolean;
}

export class BatchDryRunResponseDto {
  @ApiProperty({ description: 'Tasks the filter matches now', example: 50 }) matched!: number;
}

export class BatchAcceptedResponseDto {
  @ApiProperty({ example: 'batch_0f6b7a5e-2c1d-4f7e-9a51-3b8e2d4c6a10' }) batch_id!: string;
  @ApiProperty({ enum: BATCH_ACTIONS }) action!: BatchAction;
  @ApiProperty({ description: 'Tasks the batch acts on (fixed when it is accepted)', example: 50 })
  matched!: number;
  @ApiProperty({ enum: ['running'] }) state!: 'running';
}

export const BATCH_STATES = ['running', 'completed', 'failed'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

export class BatchStatusResponseDto {
  @ApiProperty({ example: 'batch_0f6b7a5e-2c1d-4f7e-9a51-3b8e2d4c6a10' }) batch_id!: string;
  @ApiProperty({ enum: BATCH_ACTIONS }) action!: BatchAction;
  @ApiProperty({ enum: BATCH_STATES, example: 'completed' }) state!: BatchState;
  @ApiProperty({ description: 'Tasks the batch acts on', example: 50 }) matched!: number;
  @ApiProperty({ description: 'Tasks the action was applied to', example: 49 }) succeeded!: number;
  @ApiProperty({
    description:
      'Tasks the action did not apply to (resume of a task not paused, anything on a closed task)',
    example: 1,
  })
  skipped!: number;
  @ApiProperty({ description: 'Tasks where applying it failed', example: 0 }) failed!: number;
  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' }) started_at!: string;
  @ApiProperty({
    description: 'RFC 3339 once the batch is over; "" while it runs',
    example: '2026-01-01T00:00:04.000Z',
  })
  closed_at!: string;
}
