import { ApiProperty } from '@nestjs/swagger';
import { TASK_EVENT_TYPES, type TaskEvent } from '../../tasks/task-event';

export class TaskEventDto {
  @ApiProperty({ example: 'task_01J8Z6W3V4N6Q2R8S0T1U2V3W4' }) workflow_id!: string;
  @ApiProperty({ enum: TASK_EVENT_TYPES, example: 'WORKFLOW_STARTED' }) type!: string;
  @ApiProperty({ example: 'Task started' }) message!: string;
  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' }) timestamp!: string;
  @ApiProperty({ description: 'Same as the stream event id', example: 1 }) seq!: number;
}

export class TaskEventsResponseDto {
  @ApiProperty({
    type: [TaskEventDto],
    description: 'Same objects as the stream data; events add fields by type',
  })
  events!: TaskEvent[];

  @ApiProperty({ description: 'Number of events in this page', example: 1 })
  count!: number;
}
