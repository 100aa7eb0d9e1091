import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TasksModule } from '../tasks/tasks.module';
import { TemporalModule } from '../temporal/temporal.module';
import { EventsController } from './events.controller';
import { TaskEventFeeds } from './task-event-feeds';
import { TaskEventLog } from './task-event-log';
import { TaskNotices } from './task-notices';

@Module({
  imports: [AuthModule, TasksModule, TemporalModule],
  controllers: [EventsController],
  providers: [TaskEventLog, TaskEventFeeds, TaskNotices],
})
export class EventsModule {}
