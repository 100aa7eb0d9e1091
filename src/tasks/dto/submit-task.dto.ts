import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { MODEL_TIERS, ModelTier, TASK_MODES, TaskMode } from '../../workflows/contract';
import type { TaskStatus } from '../task-status';
import { Omittable } from '../../common/request-validation.pipe';
import { MAX_WEBHOOK_URL_LENGTH } from '../../common/webhook-target';
import { TASK_EVENT_TYPES } from '../task-event';
import { ApprovalGateDto } from './approval-gate.dto';
import { ID_PATTERN } from '../../common/ids';

export const MAX_QUERY_LENGTH = 20_000;

/**
 * One character a person can see: not whitespace, not a control character (NUL among them), not
 * an invisible format character (zero-width spaces and joiners, direction marks, BOM, fillers).
 * Written as plain escapes so it means the same in the OpenAPI document's pattern (ECMA-262,
 * as clients and schema tools read it) as here.
 */
const VISIBLE_CHARACTER =
  '[^\\x00-\\x20\\x7f-\\xa0\\xad\\u034f\\u061c\\u115f\\u1160\\u1680\\u17b4\\u17b5\\u180b-\\u180f' +
  '\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff0-\\ufff8]';
export const MAX_CONTEXT_BYTES = 64 * 1024;

/** Event types a webhook gets when it names none: every task event but PROGRESS. */
export const DEFAULT_WEBHOOK_EVENTS = TASK_EVENT_TYPES.filter((type) => type !== 'PROGRESS');

/** Where a task's events are POSTed (see `webhook` on submit). */
export class WebhookDto {
  @ApiProperty({
    description:
      'An absolute http(s) URL. Loopback, private and other non-public addresses (also when a ' +
      'host name resolves to one) are refused unless the service runs with ' +
      '`WEBHOOK_ALLOW_PRIVATE=true`',
    maxLength: MAX_WEBHOOK_URL_LENGTH,
    format: 'uri',
    example: 'https://hooks.example.com/task-events',
  })
  @IsString({ message: 'webhook.url must be a string' })
  @IsDefined({ message: 'webhook.url is required' })
  url!: string;

  @ApiPropertyOptional({
    description: 'The event types to send; default: every task event but `PROGRESS`',
    type: 'array',
    items: { type: 'string', enum: [...TASK_EVENT_TYPES] },
    minItems: 1,
    maxItems: TASK_EVENT_TYPES.length,
    example: ['workflow.paused', 'WORKFLOW_COMPLETED', 'WORKFLOW_FAILED'],
  })
  @Omittable()
  @IsIn(TASK_EVENT_TYPES, {
    each: true,
    message: `webhook.events may only name task events: ${TASK_EVENT_TYPES.join(', ')}`,
  })
  @ArrayMaxSize(TASK_EVENT_TYPES.length, {
    message: `webhook.events must have at most ${TASK_EVENT_TYPES.length} entries`,
  })
  @ArrayMinSize(1, { message: 'webhook.events must name at least one event type' })
  @IsArray({ message: 'webhook.events must be an array of event types' })
  events?: string[];
}

/** Body of `POST /api/v1/tasks`; unknown fields are ignored, known ones validated strictly. */
export class SubmitTaskDto {
  @ApiProperty({
    description:
      'What the task should do. Not blank: at least one visible character (whitespace, control ' +
      'and zero-width characters alone are refused)',
    minLength: 1,
    pattern: VISIBLE_CHARACTER,
    maxLength: MAX_QUERY_LENGTH,
    example: 'Summarize the quarterly report',
  })
  @MaxLength(MAX_QUERY_LENGTH, { message: `query must be at most ${MAX_QUERY_LENGTH} characters` })
  // eslint-disable-next-line no-misleading-character-class -- the combining characters are listed to be refused one by one
  @Matches(new RegExp(VISIBLE_CHARACTER), { message: 'Query is required' })
  @IsString({ message: 'query must be a string' })
  @IsDefined({ message: 'Query is required' })
  query!: string;

  @ApiPropertyOptional({
    description: 'Groups related tasks; generated (UUID) when absent',
    example: 'session-2026-q1',
    maxLength: 128,
    pattern: ID_PATTERN.source,
  })
  @Omittable()
  @Matches(ID_PATTERN, { message: 'Invalid session_id format' })
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
  @Omittable()
  @IsObject({ message: 'context must be a JSON object' })
  context?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: TASK_MODES, default: 'standard' })
  @Omittable()
  @IsIn(TASK_MODES, { message: `mode must be one of ${TASK_MODES.join(', ')}` })
  mode?: TaskMode;

  @ApiPropertyOptional({ enum: MODEL_TIERS })
  @Omittable()
  @IsIn(MODEL_TIERS, { message: `model_tier must be one of ${MODEL_TIERS.join(', ')}` })
  model_tier?: ModelTier;

  @ApiPropertyOptional({
    type: WebhookDto,
    description:
      "POST each of the task's events to `url`, signed per Standard Webhooks with the service's " +
      '`WEBHOOK_SECRET`: durably, at least once, in `seq` order',
  })
  @Omittable()
  @ValidateNested()
  @Type(() => WebhookDto)
  @IsObject({ message: 'webhook must be an object with a url' })
  webhook?: WebhookDto;

  @ApiPropertyOptional({
    type: ApprovalGateDto,
    description:
      'Checkpoints where the task waits for a decision (`POST /api/v1/approvals/decision`); ' +
      'a rejection ends it CANCELLED',
  })
  @Omittable()
  @ValidateNested()
  @Type(() => ApprovalGateDto)
  @IsObject({ message: 'approval must be an object with checkpoints' })
  approval?: ApprovalGateDto;
}

export class SubmitTaskResponseDto {
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' })
  task_id!: string;

  @ApiProperty({ enum: ['TASK_STATUS_QUEUED'], example: 'TASK_STATUS_QUEUED' })
  status!: TaskStatus;

  @ApiProperty({ example: 'Task submitted successfully' })
  message!: string;

  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' })
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
