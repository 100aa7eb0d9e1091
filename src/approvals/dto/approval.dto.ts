import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsDefined, IsString, Matches, MaxLength } from 'class-validator';
import { Omittable } from '../../common/request-validation.pipe';
import { ID_PATTERN } from '../../common/ids';
import { ApprovalRecord, ApprovalState } from '../../workflows/approval-contract';

export const MAX_FEEDBACK_LENGTH = 10_000;

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
