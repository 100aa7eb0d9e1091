import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { Omittable } from '../../common/request-validation.pipe';
import {
  APPROVAL_TIMEOUT_POLICIES,
  ApprovalTimeoutPolicy,
  MAX_APPROVAL_TIMEOUT_SECONDS,
  PendingApproval,
} from '../../workflows/approval-contract';

/** The checkpoints a task passes; steps are numbered from 1 (at most 50 of them). */
export const CHECKPOINT_PATTERN =
  /^(pre_planning|pre_step_([1-9]|[1-4][0-9]|50)|pre_synthesis|pre_completion)$/;
const MAX_CHECKPOINTS = 53;

/** `approval` on submit: the checkpoints where the task waits for a person's decision. */
export class ApprovalGateDto {
  @ApiProperty({
    description:
      'Checkpoints that wait for a decision: `pre_planning`, `pre_step_<n>` (1..50), ' +
      '`pre_synthesis`, `pre_completion`',
    type: 'array',
    items: { type: 'string', pattern: CHECKPOINT_PATTERN.source },
    minItems: 1,
    maxItems: MAX_CHECKPOINTS,
    example: ['pre_synthesis'],
  })
  @Matches(CHECKPOINT_PATTERN, {
    each: true,
    message:
      'approval.checkpoints may only name pre_planning, pre_step_<1..50>, pre_synthesis or pre_completion',
  })
  @IsString({ each: true, message: 'approval.checkpoints must be strings' })
  @ArrayMaxSize(MAX_CHECKPOINTS, {
    message: `approval.checkpoints must have at most ${MAX_CHECKPOINTS} entries`,
  })
  @ArrayMinSize(1, { message: 'approval.checkpoints must name at least one checkpoint' })
  @IsArray({ message: 'approval.checkpoints must be an array of checkpoint names' })
  @IsDefined({ message: 'approval.checkpoints is required' })
  checkpoints!: string[];

  @ApiPropertyOptional({
    description: 'How long a request waits for a decision; then `on_timeout` applies',
    minimum: 1,
    maximum: MAX_APPROVAL_TIMEOUT_SECONDS,
    example: 3600,
  })
  @Omittable()
  @Max(MAX_APPROVAL_TIMEOUT_SECONDS, {
    message: `approval.timeout_seconds must be at most ${MAX_APPROVAL_TIMEOUT_SECONDS}`,
  })
  @Min(1, { message: 'approval.timeout_seconds must be at least 1' })
  @IsInt({ message: 'approval.timeout_seconds must be an integer' })
  timeout_seconds?: number;

  @ApiPropertyOptional({
    enum: APPROVAL_TIMEOUT_POLICIES,
    default: 'reject',
    description: 'What an unanswered request becomes when `timeout_seconds` pass',
  })
  @Omittable()
  @IsIn(APPROVAL_TIMEOUT_POLICIES, { message: 'approval.on_timeout must be reject or approve' })
  on_timeout?: ApprovalTimeoutPolicy;
}

/** The approval a task waits for, in its status. */
export class PendingApprovalDto implements PendingApproval {
  @ApiProperty({ example: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis' })
  approval_id!: string;
  @ApiProperty({ example: 'pre_synthesis' }) checkpoint!: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-29T09:00:00.000Z' }) requested_at!: string;
}
