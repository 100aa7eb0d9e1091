import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TASK_EVENT_TYPES, type TaskEvent } from '../../tasks/task-event';

/** How a pause shows in the events, the same in the stream, the history and webhooks. */
export const PAUSE_EVENTS_DESCRIPTION =
  'A pause gives `workflow.pausing` when it is accepted, `workflow.paused` (with the ' +
  '`checkpoint`) when the task stops there, and `workflow.resumed` (with the `checkpoint` it ' +
  'continues from) when it is resumed. A pause withdrawn by a resume before the task reached a ' +
  'checkpoint gives `workflow.pausing` then `workflow.resumed` with `checkpoint: ""`, and no ' +
  '`workflow.paused`: the task never stopped.';

export class TaskEventDto {
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' }) workflow_id!: string;
  @ApiProperty({ enum: TASK_EVENT_TYPES, example: 'WORKFLOW_STARTED' }) type!: string;
  @ApiProperty({ example: 'Task started' }) message!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' }) timestamp!: string;
  @ApiProperty({ description: 'Same as the stream event id', example: 1 }) seq!: number;
  @ApiPropertyOptional({
    description:
      '`PROGRESS`, `workflow.paused`, `workflow.cancelled` and the `APPROVAL_*` events: the ' +
      'checkpoint. `workflow.resumed`: the checkpoint the task continues from, `""` when the ' +
      'resume withdrew a pause before the task reached one.',
    example: 'pre_step_2',
  })
  checkpoint?: string;
  @ApiPropertyOptional({
    type: 'integer',
    description: '`PROGRESS`: the steps done so far',
    example: 1,
  })
  step?: number;
  @ApiPropertyOptional({
    description: '`workflow.pausing`, `workflow.resumed`, `workflow.cancelling`: the reason given',
    example: 'Waiting for legal review',
  })
  reason?: string;
  @ApiPropertyOptional({
    description:
      '`workflow.pausing`, `workflow.resumed`, `workflow.cancelling`: who asked (`system` for ' +
      'a pause deadline)',
    example: 'alice',
  })
  requested_by?: string;
}

export class TaskEventsResponseDto {
  @ApiProperty({
    type: [TaskEventDto],
    description: `Same objects as the stream data; events add fields by type. ${PAUSE_EVENTS_DESCRIPTION}`,
  })
  events!: TaskEvent[];

  @ApiProperty({ description: 'Number of events in this page', example: 1 })
  count!: number;
}
