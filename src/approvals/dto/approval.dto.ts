import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Omittable } from '../../common/request-validation.pipe';
import { ID_PATTERN } from '../../common/ids';
import {
  APPROVAL_TIMEOUT_POLICIES,
  ApprovalRecord,
  ApprovalState,
  ApprovalTimeoutPolicy,
  MAX_APPROVAL_TIMEOUT_SECONDS,
  PendingApproval,
} from '../../workflows/approval-contract';

/** The checkpoints a task passes; steps are numbered from 1 (at most 50 of them). */
export const CHECKPOINT_PATTERN =
  /^(pre_planning|pre_step_([1-9]|[1-4][0-9]|50)|pre_synthesis|pre_completion)$/;
const MAX_CHECKPOINTS = 53;
export const MAX_FEEDBACK_LENGTH = 10_000;

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

/** Body of `POST /api/v1/approvals/decision`, as Shannon's SDK sends it. */
export class ApprovalDecisionDto {
  @ApiProperty({
    description: 'The task ID',
    example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4',
    pattern: ID_PATTERN.source,
    minLength: 1,
    maxLength: 128,
  })
  @Matches(ID_PATTERN, { message: 'Invalid task ID format' })
  @IsString({ message: 'workflow_id must be a string' })
  @IsDefined({ message: 'workflow_id is required' })
  workflow_id!: string;

  @ApiProperty({ example: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis', maxLength: 256 })
  @MaxLength(256, { message: 'approval_id must be at most 256 characters' })
  @IsString({ message: 'approval_id must be a string' })
  @IsDefined({ message: 'approval_id is required' })
  approval_id!: string;

  @ApiProperty({ example: true })
  @IsBoolean({ message: 'approved must be a boolean' })
  @IsDefined({ message: 'approved is required' })
  approved!: boolean;

  @ApiPropertyOptional({ maxLength: MAX_FEEDBACK_LENGTH, example: 'Looks good' })
  @Omittable()
  @MaxLength(MAX_FEEDBACK_LENGTH, {
    message: `feedback must be at most ${MAX_FEEDBACK_LENGTH} characters`,
  })
  @IsString({ message: 'feedback must be a string' })
  feedback?: string;

  @ApiPropertyOptional({ description: "Accepted for Shannon's clients; the task's run is used" })
  @Omittable()
  @IsString({ message: 'run_id must be a string' })
  run_id?: string;
}

export class ApprovalDecisionResponseDto {
  @ApiProperty({ example: 'sent' }) status!: string;
  @ApiProperty({ example: true }) success!: boolean;
  @ApiProperty({ example: 'Approval decision sent' }) message!: string;
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' }) workflow_id!: string;
  @ApiProperty({
    description: "The task's workflow run",
    example: '0198a5e2-7c1d-7f3e-9b2a-4c5d6e7f8a9b',
  })
  run_id!: string;
  @ApiProperty({ example: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis' })
  approval_id!: string;
}

export class PendingApprovalDto implements PendingApproval {
  @ApiProperty({ example: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis' })
  approval_id!: string;
  @ApiProperty({ example: 'pre_synthesis' }) checkpoint!: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-29T09:00:00.000Z' }) requested_at!: string;
}

export class ApprovalDto implements ApprovalRecord {
  @ApiProperty({ example: 'apr_task_01J8Z6W3V4N6Q2R8S0T1U2V3W4_pre_synthesis' })
  approval_id!: string;
  @ApiProperty({ example: 'pre_synthesis' }) checkpoint!: string;
  @ApiProperty({ enum: ['pending', 'approved', 'rejected', 'expired'], example: 'approved' })
  state!: ApprovalState;
  @ApiProperty({ format: 'date-time', example: '2026-11-29T09:00:00.000Z' }) requested_at!: string;
  @ApiProperty({
    description: 'RFC 3339, or "" while pending',
    example: '2026-11-29T09:12:40.000Z',
  })
  decided_at!: string;
  @ApiProperty({
    description: 'The principal (user_id) that decided; `system` for an expiry',
    example: 'alice',
  })
  decided_by!: string;
  @ApiProperty({ example: 'Checked the totals' }) feedback!: string;
}

export class ApprovalListResponseDto {
  @ApiProperty({ type: [ApprovalDto] }) approvals!: ApprovalDto[];
}
