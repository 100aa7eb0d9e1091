import { DynamicModule, Module } from '@nestjs/common';
import { TaskControlActivities } from './activities/control.activities';
import { createTaskActivities } from './activities/contract';
import { createExecutor } from './activities/executor-registry';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { SharedRedisModule } from './redis/shared-redis';
import { TaskDecisionsModule } from './tasks/tasks.module';
import { TaskWorker, WORKER_ACTIVITIES, WorkerActivities } from './temporal/task-worker';

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
        TaskControlActivities,
        {
          provide: WORKER_ACTIVITIES,
          inject: [AppConfig, TaskControlActivities],
          useFactory: async (
            c: AppConfig,
            control: TaskControlActivities,
          ): Promise<WorkerActivities> => ({
            ...createTaskActivities(await createExecutor(c.executor)),
            ...control.activities(),
          }),
        },
        TaskWorker,
      ],
    };
  }
}
