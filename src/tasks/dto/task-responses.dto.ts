import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ON_TIMEOUT_POLICIES, type ControlState, type OnTimeout } from '../../workflows/contract';
import { PendingApprovalDto } from './approval-gate.dto';
import { TASK_STATUSES, TaskStatus } from '../task-status';
import { TaskSnapshot, statusOf } from '../task-history';

export class TokenUsageDto {
  @ApiProperty({ example: 1873 }) input_tokens!: number;
  @ApiProperty({ example: 642 }) output_tokens!: number;
  @ApiProperty({ example: 2515 }) total_tokens!: number;
}

export class TaskStatusResponseDto {
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' }) task_id!: string;
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' }) workflow_id!: string;
  @ApiProperty({ enum: TASK_STATUSES, example: 'TASK_STATUS_COMPLETED' }) status!: TaskStatus;
  @ApiProperty({
    description: "The task's output text; empty until it completes",
    example: 'Revenue grew 12% on services.',
  })
  result!: string;
  @ApiPropertyOptional({
    description: 'Present only when `result` parses as a JSON object',
    type: 'object',
    additionalProperties: true,
  })
  response?: Record<string, unknown>;
  @ApiProperty({
    description: 'Empty unless the task failed; then the failure message',
    example: '',
  })
  error!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' }) created_at!: string;
  @ApiProperty({
    format: 'date-time',
    description: 'Time of the last recorded change',
    example: '2026-01-01T00:00:09.000Z',
  })
  updated_at!: string;
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Present once the task is closed',
    example: '2026-01-01T00:00:09.000Z',
  })
  completed_at?: string;
  @ApiProperty({ example: 'Summarize the quarterly report' }) query!: string;
  @ApiProperty({ example: 'session-2026-q1' }) session_id!: string;
  @ApiProperty({ example: 'standard' }) mode!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { steps: 3, step_duration_ms: 1000 },
  })
  context!: Record<string, unknown>;
  @ApiPropertyOptional({
    description: 'The model that answered the last call (executors that use one, e.g. openai)',
    example: 'gpt-4o-mini-2024-07-18',
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
  @ApiProperty({ example: 'Pause signal sent' }) message!: string;
  @ApiProperty({ example: 'task-123' }) task_id!: string;
}

export class ControlStateResponseDto implements ControlState {
  @ApiProperty({ example: true }) is_paused!: boolean;
  @ApiProperty({ example: false }) is_cancelled!: boolean;
  @ApiProperty({
    description: 'RFC 3339, or "" when not paused',
    example: '2026-01-01T00:00:02.000Z',
  })
  paused_at!: string;
  @ApiProperty({ example: 'Waiting for legal review' }) pause_reason!: string;
  @ApiProperty({ description: 'The principal (user_id) that paused the task', example: 'dev' })
  paused_by!: string;
  @ApiProperty({ example: '' }) cancel_reason!: string;
  @ApiProperty({ description: 'The principal (user_id) that cancelled the task', example: '' })
  cancelled_by!: string;
  @ApiProperty({
    description:
      'RFC 3339: when the pause ends by `on_timeout` if still in place; "" for a pause ' +
      'without a deadline, and when not paused',
    example: '',
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
