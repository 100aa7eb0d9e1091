import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { InvalidInputError } from '../common/domain-error';
import { ID_PATTERN } from '../common/ids';

/** Batch IDs have the charset of task IDs (`batch_<UUID>` when generated). */
@Injectable()
export class BatchIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!ID_PATTERN.test(value)) throw new InvalidInputError('Invalid batch ID format');
    return value;
  }
}

export const ApiBatchIdParam = () =>
  ApiParam({
    name: 'id',
    description: 'Batch ID, as the batch request answered it',
    // In the schema: @nestjs/swagger drops a parameter's own example when a schema is given.
    schema: {
      type: 'string',
      pattern: ID_PATTERN.source,
      minLength: 1,
      maxLength: 128,
      example: 'batch_0f6b7a5e-2c1d-4f7e-9a51-3b8e2d4c6a10',
    },
  });
