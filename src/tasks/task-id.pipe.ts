import { Injectable, PipeTransform } from '@nestjs/common';
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
