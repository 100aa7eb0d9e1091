import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { OutageWarning, SharedRedis } from '../redis/shared-redis';
import { TaskChanges } from '../tasks/task-changes';
import { STREAMING_NOTICE, WRITTEN_NOTICE, taskChangedChannel } from '../workflows/contract';

/**
 * What a notice says: the task changed and Temporal is writing it (`changed`, from a worker),
 * what changed is in the history (`written`: a decision of an instance, or whatever may have
 * changed while notices could not arrive), or one of its steps streams text now.
 */
export type TaskNotice = 'changed' | 'written' | 'streaming';

const NOTICES = new Map<string, TaskNotice>([
  [STREAMING_NOTICE, 'streaming'],
  [WRITTEN_NOTICE, 'written'],
]);

/**
 * Change notices for the tasks this instance follows, through Redis when the deployment shares
 * it: workers publish one whenever a task's workflow changes something, and every instance one
 * for each decision it makes; a worker also tells when a step starts streaming text. Without
 * REDIS_URL there are only this instance's own decisions. A notice is a hint to read now; it
 * carries nothing that could be wrong.
 */
@Injectable()
export class TaskNotices implements OnApplicationShutdown {
  private readonly listeners = new Map<string, (notice: TaskNotice) => void>();
  private readonly subscriber?: Redis;
  private readonly publisher?: Redis;
  private readonly outage = new OutageWarning(
    new Logger(TaskNotices.name),
    'Event streams fall back to reading tasks in turn',
  );
  private readonly unlisten: () => void;

  constructor(redis: SharedRedis, changes: TaskChanges) {
    this.publisher = redis.client;
    // A connection in subscriber mode can do nothing else.
    this.subscriber = redis.client?.duplicate();
    this.subscriber?.on('error', () => undefined);
    this.subscriber?.on('message', (channel: string, message: string) =>
      this.listeners.get(channel)?.(NOTICES.get(message) ?? 'changed'),
    );
    let connected = false;
    this.subscriber?.on('ready', () => {
      if (connected) this.reconnected();
      connected = true;
    });
    // This instance's decisions: Temporal has written them by the time they are announced.
    this.unlisten = changes.listen((taskId) => {
      this.listeners.get(taskChangedChannel(taskId))?.('written');
      this.publisher?.publish(taskChangedChannel(taskId), WRITTEN_NOTICE).catch((err: unknown) => {
        this.outage.warn(err);
      });
    });
  }

  /** Whether notices reach this instance from workers and the other instances. */
  get shared(): boolean {
    return this.subscriber !== undefined;
  }

  /**
   * Calls `onNotice` with each notice of the task, until the returned function is called; and
   * (as a change) once notices from Redis begin to arrive, since a change in the moment before
   * that sent a notice no one heard.
   */
  listen(taskId: string, onNotice: (notice: TaskNotice) => void): () => void {
    const channel = taskChangedChannel(taskId);
    this.listeners.set(channel, onNotice);
    this.subscriber?.subscribe(channel).then(
      () => this.listeners.get(channel)?.('written'),
      (err: unknown) => this.outage.warn(err),
    );
    return () => {
      if (this.listeners.get(channel) !== onNotice) return;
      this.listeners.delete(channel);
      this.subscriber?.unsubscribe(channel).catch((err: unknown) => this.outage.warn(err));
    };
  }

  /**
   * The subscriber connection is back after a drop: the notices sent meanwhile were lost. Once
   * every channel is subscribed again, each task is told to read now.
   */
  private reconnected(): void {
    const channels = [...this.listeners.keys()];
    if (channels.length === 0) return;
    // ioredis subscribes them again by itself, but says nothing when that is done: asking
    // again (harmless) gives the moment to read from.
    this.subscriber!.subscribe(...channels).then(
      () => {
        for (const channel of channels) this.listeners.get(channel)?.('written');
      },
      (err: unknown) => this.outage.warn(err),
    );
  }

  onApplicationShutdown(): void {
    this.unlisten();
    this.subscriber?.disconnect();
  }
}
