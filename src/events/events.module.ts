import { Module } from '@nestjs/common';
import { TasksModule } from '../tasks/tasks.module';
import { TemporalModule } from '../temporal/temporal.module';
import { EventsController } from './events.controller';
import { TaskEventFeeds } from './task-event-feeds';

@Module({
  imports: [TasksModule, TemporalModule],
  controllers: [EventsController],
  providers: [TaskEventFeeds],
})
export class EventsModule {}
