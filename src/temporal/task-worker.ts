import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  NativeConnection,
  Worker,
  WorkerOptions,
  bundleWorkflowCode,
  type InjectedSinks,
} from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../common/error-chain';
import { AppConfig } from '../config/app-config';
import { webhookTaskQueue } from '../workflows/webhook-contract';
import { SharedRedis } from '../redis/shared-redis';
import { CHANGED_NOTICE, TaskNoticeSinks, taskChangedChannel } from '../workflows/contract';
import { temporalConnectionOptions } from './connection-options';
import { activityTraceInterceptor } from './activity-trace';
import { grpcCode } from './grpc-errors';
import { findMissingSetup } from './temporal-setup';
import { TemporalSetupError } from './temporal-setup-error';

/**
 * The activities this worker runs (the task's and the control ones), built where the worker
 * process is composed (worker.module.ts): the runner hosts them without knowing them.
 */
export const WORKER_ACTIVITIES = Symbol('WORKER_ACTIVITIES');
export type WorkerActivities = NonNullable<WorkerOptions['activities']>;

/**
 * Publishes a task's notices (CHANGED_NOTICE, STREAMING_NOTICE) to Redis when the worker shares
 * it with the API, so event streams read at once instead of at their next turn. Fire and
 * forget: a notice lost to a Redis outage only delays a stream. Without Redis, nothing.
 */
export function taskNoticePublisher(redis: SharedRedis): (taskId: string, notice: string) => void {
  const client = redis.client;
  return (taskId, notice) => {
    void client?.publish(taskChangedChannel(taskId), notice).catch(() => undefined);
  };
}

/**
 * The webhook delivery activities, on a task queue of their own; null when this worker
 * delivers no webhooks (no WEBHOOK_SECRET). `stop` ends their open sessions at shutdown.
 */
export const WEBHOOK_ACTIVITIES = Symbol('WEBHOOK_ACTIVITIES');
export interface WebhookWorkerActivities {
  activities: WorkerActivities;
  stop(): void;
}

const RECONNECT_DELAY_MS = 2000;
const UNAVAILABLE = 14;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Written by `npm run build`; absent when running from TypeScript sources. */
const PREBUNDLED_WORKFLOWS = join(__dirname, '..', 'workflow-bundle.js');

/** Bundled with the workflows: carry the trace context on to activities. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/interceptors')];

/**
 * The workflow code as workers run it, bundled (webpack, a few seconds): by `npm run build`
 * ahead of time, and by specs that run the workflows on a test server.
 */
export async function bundleTaskWorkflows(): Promise<string> {
  const bundleLogger = new Logger('WorkflowBundle');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: {
      log() {},
      info() {},
      debug() {},
      trace() {},
      warn: (message) => bundleLogger.warn(message),
      error: (message) => bundleLogger.error(message),
    },
  });
  return code;
}

/** Activities read the trace context the workflow passes on (for the calls they make). */
const ACTIVITY_INTERCEPTORS = [activityTraceInterceptor];

function workflowSource(): Pick<
  WorkerOptions,
  'workflowBundle' | 'workflowsPath' | 'interceptors'
> {
  if (existsSync(PREBUNDLED_WORKFLOWS)) {
    return {
      workflowBundle: { codePath: PREBUNDLED_WORKFLOWS },
      interceptors: { activity: ACTIVITY_INTERCEPTORS },
    };
  }
  return {
    workflowsPath: require.resolve('../workflows'),
    interceptors: {
      workflowModules: WORKFLOW_INTERCEPTOR_MODULES,
      activity: ACTIVITY_INTERCEPTORS,
    },
  };
}

/** Runs the task and batch workflows and their activities on the configured task queue. */
@Injectable()
export class TaskWorker
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger(TaskWorker.name);
  private connection?: NativeConnection;
  private worker?: Worker;
  /** Delivers task webhooks, on a task queue of its own (absent without WEBHOOK_SECRET). */
  private webhookWorker?: Worker;
  private running?: Promise<void>;
  private readonly stopping = new AbortController();

  constructor(
    private readonly config: AppConfig,
    @Inject(WORKER_ACTIVITIES) private readonly activities: WorkerActivities,
    private readonly redis: SharedRedis,
    @Inject(WEBHOOK_ACTIVITIES) private readonly webhooks: WebhookWorkerActivities | null,
  ) {}

  /**
   * Change notices from the workflow (see TaskNoticeSinks), published as taskNoticePublisher
   * says. Without Redis the sink is still registered, and does nothing: the SDK logs an error
   * for every call to a sink it does not know.
   */
  private taskNoticeSinks(): InjectedSinks<TaskNoticeSinks> {
    const publish = taskNoticePublisher(this.redis);
    return {
      taskNotices: {
        changed: {
          fn: (info: WorkflowInfo) => publish(info.workflowId, CHANGED_NOTICE),
          callDuringReplay: false,
        },
      },
    };
  }

  /** Runs in the background: a worker started while Temporal is down waits for it. */
  onApplicationBootstrap(): void {
    this.running = this.run().catch((err: unknown) => {
      // A worker that stopped on its own is fatal: exit so a supervisor can restart it.
      if (err instanceof TemporalSetupError) this.logger.error(`${err.message}; worker stopped`);
      else {
        this.logger.error(
          `Worker stopped unexpectedly: ${describeError(err)}`,
          err instanceof Error ? err.stack : undefined,
        );
      }
      process.exitCode = 1;
      // Shut down in order through the process's signal handler; one that failed so early
      // that the process has none yet (a missing namespace fails in milliseconds) would die of
      // the signal instead of exiting 1.
      if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM');
      else process.exit(1);
    });
  }

  private async run(): Promise<void> {
    const { address, namespace, taskQueue } = this.config.temporal;
    this.connection = await this.connect();
    if (!this.connection) return;
    // The workflow sets TaskStatus, which Temporal rejects unless it is registered.
    if (!(await this.checkSetUp(this.connection))) return;
    this.worker = await Worker.create({
      connection: this.connection,
      namespace,
      taskQueue,
      ...workflowSource(),
      activities: this.activities,
      maxConcurrentActivityTaskExecutions: this.config.worker.maxConcurrentActivities,
      maxConcurrentWorkflowTaskExecutions: this.config.worker.maxConcurrentWorkflowTasks,
      // On shutdown, running steps get this long to finish; then they are cancelled and
      // Temporal retries them on another worker.
      shutdownGraceTime: '4 seconds',
      // Calls heartbeat every second, a step's with its text so far. The SDK would send at most
      // one heartbeat per 4 s (80 % of the 5 s heartbeat timeout); once a second keeps both
      // cancellation and the live LLM_PARTIAL text of event streams within about a second.
      // Heartbeats are calls to Temporal, not history events.
      maxHeartbeatThrottleInterval: '1 second',
      sinks: this.taskNoticeSinks(),
    });
    this.webhookWorker = await this.createWebhookWorker(this.connection);
    if (this.stopping.signal.aborted) return;
    this.logger.log(`Worker polling task queue "${taskQueue}" on ${address ?? 'localhost:7233'}`);
    await Promise.all([this.worker.run(), this.webhookWorker?.run()]);
  }

  /**
   * Delivery sessions last as long as their task (they wait for its events), so they get a
   * task queue and slots of their own: however many webhooks wait on slow receivers, the
   * tasks' own activities are never queued behind them.
   */
  private async createWebhookWorker(connection: NativeConnection): Promise<Worker | undefined> {
    const { namespace, taskQueue } = this.config.temporal;
    if (!this.webhooks) {
      this.logger.warn('WEBHOOK_SECRET is not set: this worker delivers no task webhooks');
      return undefined;
    }
    return Worker.create({
      connection,
      namespace,
      taskQueue: webhookTaskQueue(taskQueue),
      activities: this.webhooks.activities,
      maxConcurrentActivityTaskExecutions: this.config.webhooks.maxConcurrentTasks,
      // Sessions heartbeat their progress each second; a retried one resumes from the last.
      maxHeartbeatThrottleInterval: '1 second',
      // A stopping worker ends its sessions at once (they resume elsewhere from a heartbeat).
      shutdownGraceTime: '1 second',
    });
  }

  /** Connects, retrying while Temporal is unreachable; undefined once shutdown began. */
  private async connect(): Promise<NativeConnection | undefined> {
    for (;;) {
      try {
        return await NativeConnection.connect(temporalConnectionOptions(this.config));
      } catch (err) {
        if (this.stopping.signal.aborted) return undefined;
        this.logger.warn(`Temporal unreachable (${(err as Error).message}); retrying`);
        await sleep(RECONNECT_DELAY_MS, this.stopping.signal);
        if (this.stopping.signal.aborted) return undefined;
      }
    }
  }

  /**
   * Throws `TemporalSetupError` when the namespace or the task search attributes are missing:
   * no retry fixes that. Waits while Temporal is unreachable; false once shutdown began.
   */
  private async checkSetUp(connection: NativeConnection): Promise<boolean> {
    for (;;) {
      try {
        const missing = await findMissingSetup(connection, this.config.temporal.namespace);
        if (missing) throw missing;
        return true;
      } catch (err) {
        if (this.stopping.signal.aborted) return false;
        if (grpcCode(err) !== UNAVAILABLE) throw err;
        this.logger.warn(`Temporal unavailable (${describeError(err)}); retrying`);
        await sleep(RECONNECT_DELAY_MS, this.stopping.signal);
        if (this.stopping.signal.aborted) return false;
      }
    }
  }

  /**
   * Before anything closes: activities being drained may still use the Temporal client and
   * Redis of the control activities, which close in their own modules' shutdown.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    if (this.worker?.getState() === 'RUNNING') this.worker.shutdown();
    if (this.webhookWorker?.getState() === 'RUNNING') this.webhookWorker.shutdown();
    this.webhooks?.stop();
    await this.running;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.connection?.close();
  }
}
