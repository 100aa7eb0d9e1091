import { DynamicModule, Module } from '@nestjs/common';
import { createExecutor } from './activities/executor-registry';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { SharedRedisModule } from './redis/shared-redis';
import { TASK_EXECUTOR, TaskWorker } from './temporal/task-worker';
import { TemporalModule } from './temporal/temporal.module';
import { WebhookDeliveryModule } from './webhooks/webhook-delivery.module';

/** The worker process: the task and webhook delivery workflows and their activities, no HTTP. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        SharedRedisModule,
        TemporalModule,
        WebhookDeliveryModule,
      ],
      providers: [
        {
          provide: TASK_EXECUTOR,
          inject: [AppConfig],
          useFactory: (c: AppConfig) => createExecutor(c.executor),
        },
        TaskWorker,
      ],
    };
  }
}
