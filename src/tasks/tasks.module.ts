import { Module } from '@nestjs/common';
import { TemporalModule } from '../temporal/temporal.module';
import { TasksController } from './tasks.controller';
import { TaskListService } from './task-list.service';
import { TasksService } from './tasks.service';

@Module({
  imports: [TemporalModule],
  controllers: [TasksController],
  providers: [TasksService, TaskListService],
  exports: [TasksService],
})
export class TasksModule {}
