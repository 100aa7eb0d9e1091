import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { PaginationQuery } from '../../common/pagination-query';
import { STREAM_EVENT_TYPES } from '../../tasks/task-event';
import { ID_PATTERN } from '../../common/ids';

/** Up to 15 digits, or empty (no last event). */
export const LAST_EVENT_ID_PATTERN = /^\d{0,15}$/;

const EVENT_NAME = `(${STREAM_EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|')})`;

export class StreamQueryDto {
  @ApiPropertyOptional({
    description: `Comma-separated event names to send (${STREAM_EVENT_TYPES.join(', ')})`,
    example: 'workflow.paused,workflow.resumed',
    pattern: `^${EVENT_NAME}(,${EVENT_NAME})*$`,
  })
  @IsOptional()
  @IsString({ message: 'Invalid types parameter' })
  types?: string;

  @ApiPropertyOptional({
    description: 'Send only events with a greater id (the `Last-Event-ID` header wins)',
    pattern: LAST_EVENT_ID_PATTERN.source,
  })
  @IsOptional()
  @Matches(LAST_EVENT_ID_PATTERN, { message: 'Invalid last_event_id parameter' })
  @IsString({ message: 'Invalid last_event_id parameter' })
  last_event_id?: string;

  @ApiPropertyOptional({
    description: 'API key, for clients that cannot set headers (EventSource)',
  })
  @IsOptional()
  @IsString({ message: 'Invalid api_key parameter' })
  api_key?: string;
}

export class SseQueryDto extends StreamQueryDto {
  @ApiProperty({
    description: 'Task ID',
    example: 'task-123',
    pattern: ID_PATTERN.source,
  })
  @IsOptional()
  @IsString({ message: 'Invalid task ID format' })
  workflow_id?: string;
}

export class EventsQueryDto extends PaginationQuery(200, 50) {}
