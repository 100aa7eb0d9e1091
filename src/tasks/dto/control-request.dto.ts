import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { Omittable } from '../../common/request-validation.pipe';

export const MAX_REASON_LENGTH = 1000;

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
