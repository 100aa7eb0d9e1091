import { Injectable, Logger } from '@nestjs/common';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Observable, Subscription } from 'rxjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { FeedState, TaskEventFeeds } from '../events/task-event-feeds';
import { TaskNotFoundError } from '../tasks/errors';
import { indexAfterSeq, type TaskEvent } from '../tasks/task-event';
import { TaskSnapshot, snapshotFromMemo } from '../tasks/task-history';
import { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';
import {
  DeliveryProgress,
  DeliverySessionInput,
  DeliverySessionResult,
  WebhookActivities,
  toDeliveryProgress,
} from '../workflows/webhook-contract';
import { afterDelivered, afterFailedAttempt, beforeAttempt, retryOf } from './delivery-retry';
import { webhookMessage } from './webhook-message';
import { WebhookSender } from './webhook-sender';

/** A session returns where it stands after this long, so its progress reaches the memo. */
const SESSION_MS = 60 * 60_000;
/** Sessions heartbeat their progress this often (the workflow's heartbeat timeout is 10 s). */
const HEARTBEAT_MS = 1000;

/** The latest state of a task's feed, and a way to wait for the next one. */
class FeedWatch {
  latest?: FeedState;
  error?: Error;
  /** Counts the states (and errors) seen. */
  version = 0;
  private wake?: () => void;
  private readonly subscription: Subscription;

  constructor(feed: Observable<FeedState>) {
    this.subscription = feed.subscribe({
      next: (state) => {
        this.latest = state;
        this.version++;
        this.wake?.();
      },
      error: (err: unknown) => {
        this.error = err instanceof Error ? err : new Error(String(err));
        this.version++;
        this.wake?.();
      },
    });
  }

  /** Resolves once there is news since `version`, after `ms`, or when `signal` aborts. */
  async changed(version: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.version !== version) return;
    const next = new Promise<void>((resolve) => (this.wake = resolve));
    // Woken by news, the timer goes too: else each wait would leave one pending for up to an
    // hour, with a listener on the session's stop signal.
    const woken = new AbortController();
    const timeout = sleep(ms, undefined, { signal: AbortSignal.any([signal, woken.signal]) });
    await Promise.race([next, timeout.catch(() => undefined)]);
    woken.abort();
    this.wake = undefined;
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

/**
 * The delivery activity of task webhooks (run on the webhook task queue): one session follows a
 * task's events with this worker's feeds (history long polls within the configured budget,
 * else tail reads; the same machinery as the API's streams) and POSTs each wanted event in
 * `seq` order, retrying a failed one with backoff until it is delivered or its retry window
 * has passed, before it goes on to the next. Its progress is heartbeated each second: a session
 * whose worker dies runs again elsewhere from there (an event may then arrive twice, never
 * never). Nothing here touches the task itself.
 */
@Injectable()
export class WebhookDeliveries {
  private readonly logger = new Logger('Webhooks');
  private readonly sender?: WebhookSender;
  private readonly stopping = new AbortController();

  constructor(
    private readonly config: AppConfig,
    private readonly workflows: TaskWorkflowGateway,
    private readonly feeds: TaskEventFeeds,
  ) {
    const { secret, allowPrivate, timeoutMs } = config.webhooks;
    if (secret) this.sender = new WebhookSender({ secret, allowPrivate, timeoutMs });
  }

  /** Whether this worker can deliver (it has a secret to sign with). */
  get enabled(): boolean {
    return this.sender !== undefined;
  }

  activities(): WebhookActivities {
    return { deliverTaskWebhooks: (input) => this.session(input) };
  }

  /** Ends every session now (the worker is stopping): each runs again on another worker. */
  stop(): void {
    this.stopping.abort();
    this.sender?.close();
  }

  private async session(input: DeliverySessionInput): Promise<DeliverySessionResult> {
    const ctx = Context.current();
    const state = {
      progress: toDeliveryProgress(ctx.info.heartbeatDetails) ?? input.progress,
    };
    const beat = (): void => ctx.heartbeat(state.progress);
    beat();
    const timer = setInterval(beat, HEARTBEAT_MS);
    const stop = AbortSignal.any([ctx.cancellationSignal, this.stopping.signal]);
    const endsAt = Date.now() + SESSION_MS;
    let watch: FeedWatch | undefined;
    try {
      const task = await this.task(input);
      if (!task) return { progress: state.progress, done: true };
      watch = new FeedWatch(this.feeds.follow(task, state.progress.seq));
      for (;;) {
        this.checkStopped(stop);
        const seen = watch.version;
        if (watch.error) throw watch.error;
        const feed = watch.latest;
        if (feed?.failure instanceof TaskNotFoundError) {
          // The task's history is gone (past the namespace's retention): nothing more to send.
          return { progress: state.progress, done: true };
        }
        const next = feed && feed.events[indexAfterSeq(feed.events, state.progress.seq)];
        if (next) {
          if (!input.webhook.events.includes(next.type)) {
            state.progress = { ...state.progress, seq: next.seq };
            continue;
          }
          const done = await this.deliver(input, next, state, endsAt, stop);
          if (!done) return { progress: state.progress, done: false };
          continue;
        }
        if (feed?.closed) return { progress: state.progress, done: true };
        if (Date.now() >= endsAt) return { progress: state.progress, done: false };
        await watch.changed(seen, endsAt - Date.now(), stop);
      }
    } finally {
      clearInterval(timer);
      watch?.close();
    }
  }

  /** The task as its memo tells it: enough to follow its events. Undefined when it is gone. */
  private async task(input: DeliverySessionInput): Promise<TaskSnapshot | undefined> {
    try {
      const described = await this.workflows.describe(input.task_id, input.run_id);
      return snapshotFromMemo(input.task_id, input.run_id, described.memo, described.startTime);
    } catch (err) {
      if (err instanceof TaskNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Delivers one event: attempts until one succeeds or the retry window passed (given up).
   * False when the next attempt is due too late for this session (beyond MAX_SESSION_WAIT_MS
   * or the session's end): the progress then holds the attempts so far and when the next one
   * is due, and the delivery workflow waits for it on a timer before the next session.
   */
  private async deliver(
    input: DeliverySessionInput,
    event: TaskEvent,
    state: { progress: DeliveryProgress },
    endsAt: number,
    stop: AbortSignal,
  ): Promise<boolean> {
    const { retryInitialMs, retryMaxMs, retryWindowMs } = this.config.webhooks;
    const policy = { initialMs: retryInitialMs, maxMs: retryMaxMs, windowMs: retryWindowMs };
    const message = webhookMessage(input.task_id, event);
    const target = new URL(input.webhook.url).origin;
    for (;;) {
      const next = beforeAttempt(state.progress, event.seq, Date.now(), endsAt);
      if (next.kind === 'end-session') return false;
      if (next.kind === 'wait') {
        await sleep(next.ms, undefined, { signal: stop }).catch(() => undefined);
        this.checkStopped(stop);
      }
      const outcome = await this.sender!.send(input.webhook.url, message.id, message.body, stop);
      this.checkStopped(stop);
      const retrying = retryOf(state.progress, event.seq);
      if (outcome.ok) {
        state.progress = afterDelivered(state.progress, event.seq);
        if (retrying) {
          this.logger.log(
            `Task ${input.task_id}: event ${event.seq} delivered to ${target} after ${retrying.attempts} failed attempts`,
          );
        }
        return true;
      }
      const failed = afterFailedAttempt(state.progress, event.seq, Date.now(), policy);
      state.progress = failed.progress;
      if (failed.givenUp) {
        this.logger.warn(
          `Task ${input.task_id}: event ${event.seq} given up after ${failed.attempts} attempts to ${target} (last: ${outcome.reason})`,
        );
        return true;
      }
      if (failed.attempts === 1) {
        this.logger.warn(
          `Task ${input.task_id}: event ${event.seq} to ${target} failed (${outcome.reason}); retrying`,
        );
      }
    }
  }

  /**
   * Ends the session when it must stop: cancelled by Temporal (reported as cancelled), or this
   * worker stopping (a failure Temporal retries at once on another worker, from the last
   * heartbeat).
   */
  private checkStopped(stop: AbortSignal): void {
    if (!stop.aborted) return;
    if (Context.current().cancellationSignal.aborted) throw new CancelledFailure('cancelled');
    throw ApplicationFailure.retryable('This worker is stopping', 'WorkerStopping');
  }
}
