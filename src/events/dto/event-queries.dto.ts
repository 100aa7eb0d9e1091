import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { TASK_EVENT_TYPES } from '../../tasks/task-event';

export class StreamQueryDto {
  @ApiPropertyOptional({
    description: `Comma-separated event names to send (${TASK_EVENT_TYPES.join(', ')})`,
    example: 'workflow.paused,workflow.resumed',
  })
  @IsOptional()
  @IsString({ message: 'Invalid types parameter' })
  types?: string;

  @ApiPropertyOptional({
    description: 'Send only events with a greater id (the `Last-Event-ID` header wins)',
    minimum: 0,
  })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'Invalid last_event_id parameter' })
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
  @ApiPropertyOptional({ description: 'Task ID (required)', example: 'task-123' })
  @IsOptional()
  @IsString({ message: 'Invalid task ID format' })
  workflow_id?: string;
}

export class EventsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @Max(200, { message: 'Invalid limit parameter' })
  @Min(1, { message: 'Invalid limit parameter' })
  @IsInt({ message: 'Invalid limit parameter' })
  limit?: number;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @Min(0, { message: 'Invalid offset parameter' })
  @IsInt({ message: 'Invalid offset parameter' })
  offset?: number;
}
