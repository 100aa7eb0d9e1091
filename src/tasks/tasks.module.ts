import { Module } from '@nestjs/common';
import { SharedRedis } from '../redis/shared-redis';
import { TemporalModule } from '../temporal/temporal.module';
import { DecisionLedger, MemoryDecisionLedger } from './decision-ledger';
import { RedisDecisionLedger } from './redis-decision-ledger';
import { TaskChanges } from './task-changes';
import { TaskReader } from './task-reader';
import { TasksController } from './tasks.controller';
import { TaskListService } from './task-list.service';
import { TasksService } from './tasks.service';
import { WebhookFailures } from './webhook-failures';

/**
 * Reads and decisions on tasks, without HTTP: the API's controllers use them, and so do the
 * workers' control activities (batches), so both decide by the same rules and ledger.
 */
@Module({
  imports: [TemporalModule],
  providers: [
    {
      provide: DecisionLedger,
      inject: [SharedRedis],
      // Shared by every instance with REDIS_URL; exact within this instance otherwise.
      useFactory: ({ client }: SharedRedis): DecisionLedger =>
        client ? new RedisDecisionLedger(client) : new MemoryDecisionLedger(),
    },
    TaskChanges,
    TaskReader,
    TasksService,
  ],
  exports: [TasksService, TaskChanges, TaskReader, DecisionLedger, TemporalModule],
})
export class TaskDecisionsModule {}

@Module({
  imports: [TaskDecisionsModule],
  controllers: [TasksController],
  providers: [TaskListService, WebhookFailures],
  exports: [TaskDecisionsModule],
})
export class TasksModule {}
