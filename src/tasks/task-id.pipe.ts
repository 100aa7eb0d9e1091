import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { InvalidInputError } from '../common/domain-error';
import { ID_PATTERN } from '../common/ids';

/** Path IDs that could not name a task are rejected before Temporal is asked. */
@Injectable()
export class TaskIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!ID_PATTERN.test(value)) throw new InvalidInputError('Invalid task ID format');
    return value;
  }
}

/** Documents the `id` path parameter with the same rule the pipe enforces. */
export const ApiTaskIdParam = () =>
  ApiParam({
    name: 'id',
    description: 'Task ID (Temporal workflow ID)',
    // In the schema: @nestjs/swagger drops a parameter's own example when a schema is given.
    schema: {
      type: 'string',
      pattern: ID_PATTERN.source,
      minLength: 1,
      maxLength: 128,
      example: 'task-123',
    },
  });

/** The ID segment of a task or batch route's path, still percent-encoded. */
const PATH_ID = /^\/api\/v1\/(tasks|batches)\/([^/]*)/;

/**
 * A task (or batch) ID whose percent-encoding is broken (`%ff`, `%`, `a%2`) cannot name one
 * either. Express would fail to decode it before any pipe runs and answer with the raw segment,
 * so this middleware answers first, with the documented message.
 */
export function rejectUndecodableTaskId(req: Request, _res: Response, next: NextFunction): void {
  const match = req.url.includes('%') ? PATH_ID.exec(req.path) : null;
  if (match) {
    try {
      decodeURIComponent(match[2]);
    } catch {
      const what = match[1] === 'tasks' ? 'task' : 'batch';
      next(new InvalidInputError(`Invalid ${what} ID format`));
      return;
    }
  }
  next();
}
