import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { Omittable } from '../../common/request-validation.pipe';
import {
  MAX_PAUSE_TIMEOUT_SECONDS,
  ON_TIMEOUT_POLICIES,
  type OnTimeout,
} from '../../workflows/contract';

export const MAX_REASON_LENGTH = 1000;

const TIMEOUT_MESSAGE = `timeout_seconds must be an integer from 1 to ${MAX_PAUSE_TIMEOUT_SECONDS}`;

/** Optional body of pause, resume and cancel. */
export class ControlRequestDto {
  @ApiPropertyOptional({
    description: 'A note on why, recorded with the signal',
    maxLength: MAX_REASON_LENGTH,
    example: 'User approved continuation',
  })
  @Omittable()
  @MaxLength(MAX_REASON_LENGTH, {
    message: `reason must be at most ${MAX_REASON_LENGTH} characters`,
  })
  @IsString({ message: 'reason must be a string' })
  reason?: string;
}

/** Body of pause: the reason, and optionally a deadline with what it does. */
export class PauseRequestDto extends ControlRequestDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAUSE_TIMEOUT_SECONDS,
    description:
      'A deadline: if the task is still paused this many seconds after the pause was accepted, ' +
      '`on_timeout` applies. A durable Temporal timer: it fires through restarts, and as soon ' +
      'as a worker runs if none does at that moment. A resume or cancel before it clears it.',
    example: 3600,
  })
  @Omittable()
  @Max(MAX_PAUSE_TIMEOUT_SECONDS, { message: TIMEOUT_MESSAGE })
  @Min(1, { message: TIMEOUT_MESSAGE })
  @IsInt({ message: TIMEOUT_MESSAGE })
  timeout_seconds?: number;

  @ApiPropertyOptional({
    enum: ON_TIMEOUT_POLICIES,
    default: 'resume',
    description:
      'What the deadline does, only with `timeout_seconds`: `resume` continues the task ' +
      '(`workflow.resumed` by `system`, reason `pause timed out`), `cancel` ends it CANCELLED, ' +
      '`fail` ends it FAILED with error `pause timed out`',
  })
  @Omittable()
  @IsIn(ON_TIMEOUT_POLICIES, { message: 'on_timeout must be one of resume, cancel, fail' })
  on_timeout?: OnTimeout;
}
