import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ON_TIMEOUT_POLICIES, type ControlState, type OnTimeout } from '../../workflows/contract';
import { PendingApprovalDto } from '../../approvals/dto/approval.dto';
import { TASK_STATUSES, TaskStatus } from '../task-status';
import { TaskSnapshot, statusOf } from '../task-history';

export class TokenUsageDto {
  @ApiProperty() input_tokens!: number;
  @ApiProperty() output_tokens!: number;
  @ApiProperty() total_tokens!: number;
}

export class TaskStatusResponseDto {
  @ApiProperty() task_id!: string;
  @ApiProperty() workflow_id!: string;
  @ApiProperty({ enum: TASK_STATUSES }) status!: TaskStatus;
  @ApiProperty({ description: "The task's output text; empty until it completes" })
  result!: string;
  @ApiPropertyOptional({
    description: 'Present only when `result` parses as a JSON object',
    type: 'object',
    additionalProperties: true,
  })
  response?: Record<string, unknown>;
  @ApiProperty({ description: 'Empty unless the task failed; then the failure message' })
  error!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time', description: 'Time of the last recorded change' })
  updated_at!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Present once the task is closed' })
  completed_at?: string;
  @ApiProperty() query!: string;
  @ApiProperty() session_id!: string;
  @ApiProperty() mode!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) context!: Record<string, unknown>;
  @ApiPropertyOptional({
    description: 'The model that answered the last call (executors that use one, e.g. openai)',
  })
  model_used?: string;
  @ApiPropertyOptional({ description: 'Who served the model, e.g. `openai`', example: 'openai' })
  provider?: string;
  @ApiPropertyOptional({
    type: TokenUsageDto,
    description: "Tokens counted by the model server, summed over the task's calls so far",
  })
  usage?: TokenUsageDto;
  @ApiPropertyOptional({
    description:
      'Tasks submitted with a webhook: failed delivery attempts so far (non-2xx answers, network errors, timeouts), retried ones included',
    example: 0,
  })
  webhook_failures?: number;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function toTaskStatusResponse(
  task: TaskSnapshot,
  webhookFailures?: number,
): TaskStatusResponseDto {
  const response = parseJsonObject(task.result);
  return {
    task_id: task.taskId,
    workflow_id: task.taskId,
    status: statusOf(task),
    result: task.result,
    ...(response && { response }),
    error: task.error,
    created_at: task.createdAt.toISOString(),
    updated_at: task.updatedAt.toISOString(),
    ...(task.closedAt && { completed_at: task.closedAt.toISOString() }),
    query: task.query,
    session_id: task.sessionId,
    mode: task.mode,
    context: task.context,
    ...(task.model?.model_used && { model_used: task.model.model_used }),
    ...(task.model?.provider && { provider: task.model.provider }),
    ...(task.model?.usage && { usage: task.model.usage }),
    ...(webhookFailures !== undefined && { webhook_failures: webhookFailures }),
  };
}

export class ControlAcceptedResponseDto {
  @ApiProperty({ example: true }) success!: boolean;
  @ApiProperty() message!: string;
  @ApiProperty({ example: 'task-123' }) task_id!: string;
}

export class ControlStateResponseDto implements ControlState {
  @ApiProperty() is_paused!: boolean;
  @ApiProperty() is_cancelled!: boolean;
  @ApiProperty({ description: 'RFC 3339, or "" when not paused' }) paused_at!: string;
  @ApiProperty() pause_reason!: string;
  @ApiProperty({ description: 'The principal (user_id) that paused the task' })
  paused_by!: string;
  @ApiProperty() cancel_reason!: string;
  @ApiProperty({ description: 'The principal (user_id) that cancelled the task' })
  cancelled_by!: string;
  @ApiProperty({
    description:
      'RFC 3339: when the pause ends by `on_timeout` if still in place; "" for a pause ' +
      'without a deadline, and when not paused',
  })
  pause_deadline!: string;
  @ApiProperty({
    enum: ['', ...ON_TIMEOUT_POLICIES],
    description: 'What the pause deadline does; "" without one',
  })
  on_timeout!: OnTimeout | '';
  @ApiPropertyOptional({
    type: PendingApprovalDto,
    nullable: true,
    description:
      'Tasks with approval gates: the decision the task waits for at a checkpoint, or null',
  })
  pending_approval?: PendingApprovalDto | null;
}

export class TaskChangedResponseDto {
  @ApiProperty({ example: 'Task has changed' }) error!: string;
  @ApiProperty({
    description: 'The current ETag: read the task again, then decide with this one',
    example: '"mQ3bYwzWcM1Jc0b5Fz0uxV7iP3e"',
  })
  etag!: string;
}

export class TerminalStateResponseDto {
  @ApiProperty({ example: false }) success!: boolean;
  @ApiProperty({ example: 'Task is already in terminal state: COMPLETED' }) message!: string;
  @ApiProperty({ enum: ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'] }) status!: string;
}
