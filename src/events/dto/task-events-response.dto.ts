import { ApiProperty } from '@nestjs/swagger';
import { TASK_EVENT_TYPES, type TaskEvent } from '../../tasks/task-event';

export class TaskEventDto {
  @ApiProperty() workflow_id!: string;
  @ApiProperty({ enum: TASK_EVENT_TYPES }) type!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiProperty({ description: 'Same as the stream event id' }) seq!: number;
}

export class TaskEventsResponseDto {
  @ApiProperty({
    type: [TaskEventDto],
    description: 'Same objects as the stream data; events add fields by type',
  })
  events!: TaskEvent[];

  @ApiProperty({ description: 'Number of events in this page' })
  count!: number;
}
