import { DynamicModule, Module } from '@nestjs/common';
import { TaskControlActivities } from './activities/control.activities';
import { createExecutor } from './activities/executor-registry';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { SharedRedisModule } from './redis/shared-redis';
import { TaskDecisionsModule } from './tasks/tasks.module';
import { TASK_EXECUTOR, TaskWorker } from './temporal/task-worker';
import { WebhookDeliveryModule } from './webhooks/webhook-delivery.module';

/**
 * The worker process: the task, batch and webhook delivery workflows and their activities, no
 * HTTP. Batches decide on tasks with the API's own decision pieces (and, with REDIS_URL, its
 * shared ledger).
 */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        SharedRedisModule,
        TaskDecisionsModule,
        WebhookDeliveryModule,
      ],
      providers: [
        {
          provide: TASK_EXECUTOR,
          inject: [AppConfig],
          useFactory: (c: AppConfig) => createExecutor(c.executor),
        },
        TaskControlActivities,
        TaskWorker,
      ],
    };
  }
}
