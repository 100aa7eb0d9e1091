import { DynamicModule, Module } from '@nestjs/common';
import { TaskControlActivities } from './activities/control.activities';
import { createTaskActivities } from './activities/contract';
import { createExecutor } from './activities/executor-registry';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { SharedRedis, SharedRedisModule } from './redis/shared-redis';
import { TaskDecisionsModule } from './tasks/tasks.module';
import {
  TaskWorker,
  WEBHOOK_ACTIVITIES,
  WORKER_ACTIVITIES,
  WebhookWorkerActivities,
  WorkerActivities,
  taskNoticePublisher,
} from './temporal/task-worker';
import { WebhookDeliveries } from './webhooks/webhook-deliveries';
import { WebhookDeliveryModule } from './webhooks/webhook-delivery.module';
import { STREAMING_NOTICE } from './workflows/contract';

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
        TaskControlActivities,
        {
          provide: WORKER_ACTIVITIES,
          inject: [AppConfig, TaskControlActivities, SharedRedis],
          useFactory: async (
            c: AppConfig,
            control: TaskControlActivities,
            redis: SharedRedis,
          ): Promise<WorkerActivities> => {
            const publish = taskNoticePublisher(redis);
            return {
              ...createTaskActivities(await createExecutor(c.executor), {
                streaming: (taskId) => publish(taskId, STREAMING_NOTICE),
              }),
              ...control.activities(),
            };
          },
        },
        {
          provide: WEBHOOK_ACTIVITIES,
          inject: [WebhookDeliveries],
          useFactory: (webhooks: WebhookDeliveries): WebhookWorkerActivities | null =>
            webhooks.enabled
              ? { activities: webhooks.activities(), stop: () => webhooks.stop() }
              : null,
        },
        TaskWorker,
      ],
    };
  }
}
