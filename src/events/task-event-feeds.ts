import { Injectable } from '@nestjs/common';
import { Observable, finalize, shareReplay } from 'rxjs';
import type { TaskEvent } from '../tasks/task-event';
import { TaskHistoryFold } from '../tasks/task-history';
import { TaskWorkflowGateway } from '../temporal/task-workflow.gateway';

/** What a task's feed knows so far. `events` only grows; readers keep their own cursor. */
export interface FeedState {
  readonly events: readonly TaskEvent[];
  readonly closed: boolean;
}

/**
 * One history reader per task in this process, shared by all who follow the task and alive
 * while anyone does. It long-polls the workflow history (durable, so every instance and every
 * restart sees the same events with the same ids) and folds it into task events.
 */
@Injectable()
export class TaskEventFeeds {
  private readonly feeds = new Map<string, Observable<FeedState>>();

  constructor(private readonly workflows: TaskWorkflowGateway) {}

  follow(taskId: string): Observable<FeedState> {
    let feed = this.feeds.get(taskId);
    if (!feed) {
      feed = this.read(taskId).pipe(
        finalize(() => this.feeds.delete(taskId)),
        shareReplay({ bufferSize: 1, refCount: true }),
      );
      this.feeds.set(taskId, feed);
    }
    return feed;
  }

  /** How many tasks this process reads right now. */
  get size(): number {
    return this.feeds.size;
  }

  private read(taskId: string): Observable<FeedState> {
    return new Observable<FeedState>((subscriber) => {
      const abort = new AbortController();
      const fold = new TaskHistoryFold(taskId);
      const events: TaskEvent[] = [];
      const poll = async (): Promise<void> => {
        let token: Uint8Array | undefined;
        for (;;) {
          const page = await this.workflows.historyPage(taskId, token, abort.signal);
          if (!page) return;
          for (const event of page.events) {
            const taskEvent = fold.apply(event);
            if (taskEvent) events.push(taskEvent);
          }
          token = page.nextPageToken;
          subscriber.next({ events, closed: token === undefined });
          if (token === undefined) return subscriber.complete();
        }
      };
      poll().catch((err: unknown) => subscriber.error(err));
      return () => abort.abort();
    });
  }
}
