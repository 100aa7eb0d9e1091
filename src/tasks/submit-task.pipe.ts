import { Injectable, PipeTransform } from '@nestjs/common';
import { executorOptionsProblem } from '../workflows/simulated-options';
import { InvalidInputError } from '../common/domain-error';
import { MAX_CONTEXT_BYTES, SubmitTaskDto } from './dto/submit-task.dto';

/**
 * The checks of a submitted task's `context` that its DTO's decorators cannot express: its size
 * as JSON, then the executor's options in it. Runs after the DTO is validated, so a body with
 * several problems is answered with the same first one as always.
 */
@Injectable()
export class SubmitTaskPipe implements PipeTransform<SubmitTaskDto, SubmitTaskDto> {
  transform(body: SubmitTaskDto): SubmitTaskDto {
    const context = body.context ?? {};
    if (Buffer.byteLength(JSON.stringify(context), 'utf8') > MAX_CONTEXT_BYTES) {
      throw new InvalidInputError('context must be at most 64 KiB as JSON');
    }
    const problem = executorOptionsProblem(context);
    if (problem !== undefined) throw new InvalidInputError(problem);
    return body;
  }
}
