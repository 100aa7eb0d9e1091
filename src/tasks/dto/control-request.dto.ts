import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export const MAX_REASON_LENGTH = 1000;

/** Optional body of pause, resume and cancel. */
export class ControlRequestDto {
  @ApiPropertyOptional({
    description: 'A note on why, recorded with the signal',
    maxLength: MAX_REASON_LENGTH,
    example: 'User approved continuation',
  })
  @IsOptional()
  @MaxLength(MAX_REASON_LENGTH, {
    message: `reason must be at most ${MAX_REASON_LENGTH} characters`,
  })
  @IsString({ message: 'reason must be a string' })
  reason?: string;
}
