import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TaskExecutor, createTaskActivities } from '../activities/contract';
import { AppConfig } from '../config/app-config';
import { registerSearchAttributes } from './search-attributes';

export const TASK_EXECUTOR = Symbol('TASK_EXECUTOR');

/** Written by `npm run build`; absent when running from TypeScript sources. */
const PREBUNDLED_WORKFLOWS = join(__dirname, '..', 'workflow-bundle.js');

function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (existsSync(PREBUNDLED_WORKFLOWS))
    return { workflowBundle: { codePath: PREBUNDLED_WORKFLOWS } };
  return { workflowsPath: require.resolve('../workflows') };
}

/** Runs the task workflow and its activities on the configured task queue. */
@Injectable()
export class TaskWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TaskWorker.name);
  private connection?: NativeConnection;
  private worker?: Worker;
  private running?: Promise<void>;

  constructor(
    private readonly config: AppConfig,
    @Inject(TASK_EXECUTOR) private readonly executor: TaskExecutor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { address, namespace, taskQueue } = this.config.temporal;
    this.connection = await NativeConnection.connect({ address });
    // The workflow sets TaskStatus, which Temporal rejects until it is registered.
    await registerSearchAttributes(this.connection.operatorService, namespace);
    this.worker = await Worker.create({
      connection: this.connection,
      namespace,
      taskQueue,
      ...workflowSource(),
      activities: createTaskActivities(this.executor),
    });
    this.running = this.worker.run().catch((err: unknown) => {
      // A worker that stopped on its own is fatal: exit so a supervisor can restart it.
      this.logger.error('Worker stopped unexpectedly', err instanceof Error ? err.stack : err);
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    });
    this.logger.log(`Worker polling task queue "${taskQueue}" on ${address ?? 'localhost:7233'}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.worker?.getState() === 'RUNNING') this.worker.shutdown();
    await this.running;
    await this.connection?.close();
  }
}
