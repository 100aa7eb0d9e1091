import { DynamicModule, Module } from '@nestjs/common';
import { TaskControlActivities } from './activities/control.activities';
import { createExecutor } from './activities/executor-registry';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { SharedRedisModule } from './redis/shared-redis';
import { TaskDecisionsModule } from './tasks/tasks.module';
import { TASK_EXECUTOR, TaskWorker } from './temporal/task-worker';

/**
 * The worker process: the task and batch workflows and their activities, no HTTP. Batches
 * decide on tasks with the API's own decision pieces (and, with REDIS_URL, its shared ledger).
 */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [ConfigModule.forRoot(config), SharedRedisModule, TaskDecisionsModule],
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
