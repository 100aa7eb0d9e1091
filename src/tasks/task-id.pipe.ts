import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { InvalidInputError } from '../common/domain-error';

export const TASK_ID_PATTERN = /^[A-Za-z0-9:_\-.]{1,128}$/;

/** Path IDs that could not name a task are rejected before Temporal is asked. */
@Injectable()
export class TaskIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!TASK_ID_PATTERN.test(value)) throw new InvalidInputError('Invalid task ID format');
    return value;
  }
}

/** Documents the `id` path parameter with the same rule the pipe enforces. */
export const ApiTaskIdParam = () =>
  ApiParam({
    name: 'id',
    description: 'Task ID (Temporal workflow ID)',
    example: 'task-123',
    schema: { type: 'string', pattern: TASK_ID_PATTERN.source, minLength: 1, maxLength: 128 },
  });
