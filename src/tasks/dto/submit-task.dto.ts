import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { MODEL_TIERS, ModelTier, TASK_MODES, TaskMode } from '../../workflows/contract';
import type { TaskStatus } from '../task-status';

export const MAX_QUERY_LENGTH = 20_000;
export const MAX_CONTEXT_BYTES = 64 * 1024;

/** Body of `POST /api/v1/tasks`; unknown fields are ignored, known ones validated strictly. */
export class SubmitTaskDto {
  @ApiProperty({
    description: 'What the task should do; not blank',
    minLength: 1,
    pattern: '\\S',
    maxLength: MAX_QUERY_LENGTH,
    example: 'Summarize the quarterly report',
  })
  @MaxLength(MAX_QUERY_LENGTH, { message: `query must be at most ${MAX_QUERY_LENGTH} characters` })
  @Matches(/\S/, { message: 'Query is required' })
  @IsString({ message: 'query must be a string' })
  @IsDefined({ message: 'Query is required' })
  query!: string;

  @ApiPropertyOptional({
    description: 'Groups related tasks; generated (UUID) when absent',
    maxLength: 128,
    pattern: '^[A-Za-z0-9:_\\-.]{1,128}$',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9:_\-.]{1,128}$/, { message: 'Invalid session_id format' })
  @IsString({ message: 'session_id must be a string' })
  session_id?: string;

  @ApiPropertyOptional({
    description:
      'Free-form task context, at most 64 KiB as JSON. The simulated executor honours ' +
      '`steps` (1..50, default 3), `step_duration_ms` (0..60000, default 1000) and ' +
      '`fail_at_step` (a step that fails on purpose).',
    type: 'object',
    additionalProperties: true,
    example: { steps: 3, step_duration_ms: 1000 },
  })
  @IsOptional()
  @IsObject({ message: 'context must be a JSON object' })
  context?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: TASK_MODES, default: 'standard' })
  @IsOptional()
  @IsIn(TASK_MODES, { message: `mode must be one of ${TASK_MODES.join(', ')}` })
  mode?: TaskMode;

  @ApiPropertyOptional({ enum: MODEL_TIERS })
  @IsOptional()
  @IsIn(MODEL_TIERS, { message: `model_tier must be one of ${MODEL_TIERS.join(', ')}` })
  model_tier?: ModelTier;
}

export class SubmitTaskResponseDto {
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' })
  task_id!: string;

  @ApiProperty({ enum: ['TASK_STATUS_QUEUED'], example: 'TASK_STATUS_QUEUED' })
  status!: TaskStatus;

  @ApiProperty({ example: 'Task submitted successfully' })
  message!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class SubmitTaskStreamResponseDto {
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' })
  task_id!: string;

  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' })
  workflow_id!: string;

  @ApiProperty({ example: '/api/v1/stream/sse?workflow_id=task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' })
  stream_url!: string;
}
