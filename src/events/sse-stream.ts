import type { Response } from 'express';
import type { Observable } from 'rxjs';
import type { TaskEvent } from '../tasks/task-event';
import type { FeedState } from './task-event-feeds';

/** Comment lines keep proxies and clients from timing out an idle stream (spec: ≤ 15 s). */
export const HEARTBEAT_MS = 10_000;

export const formatEvent = (event: TaskEvent): string =>
  `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

const DONE = 'event: done\ndata: [DONE]\n\n';

/**
 * Resolves with the newest state each time the reader is ready for it. Never holds more than
 * one state: a slow reader skips intermediate states, not events (states only grow).
 */
function latest(feed: Observable<FeedState>, signal: AbortSignal): AsyncIterable<FeedState> {
  return {
    [Symbol.asyncIterator]() {
      let value: FeedState | undefined;
      let fresh = false;
      let ended = false;
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        wake?.();
        wake = undefined;
      };
      const subscription = feed.subscribe({
        next: (state) => {
          value = state;
          fresh = true;
          notify();
        },
        error: (err: unknown) => {
          failure = err instanceof Error ? err : new Error(String(err));
          notify();
        },
        complete: () => {
          ended = true;
          notify();
        },
      });
      const onAbort = (): void => notify();
      signal.addEventListener('abort', onAbort);
      const stop = (): void => {
        subscription.unsubscribe();
        signal.removeEventListener('abort', onAbort);
      };
      return {
        async next(): Promise<IteratorResult<FeedState>> {
          while (!fresh && !ended && failure === undefined && !signal.aborted) {
            await new Promise<void>((resolve) => (wake = resolve));
          }
          if (failure !== undefined) {
            stop();
            throw failure;
          }
          if (fresh && !signal.aborted) {
            fresh = false;
            return { value: value!, done: false };
          }
          stop();
          return { value: undefined, done: true };
        },
        return(): Promise<IteratorResult<FeedState>> {
          stop();
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}

function drained(res: Response, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done);
  });
}

export interface StreamOptions {
  /** Send only events with a greater id. */
  after: number;
  /** Send only these event types (all when undefined). */
  types?: ReadonlySet<string>;
  /** Ends the stream early: client gone or server shutting down. */
  signal: AbortSignal;
}

/**
 * Writes a task's events as Server-Sent Events: those after `after`, then live ones, then
 * `done` once the task is closed. Waits for the socket to drain before writing more, so a slow
 * client costs a cursor, never a buffer.
 */
export async function streamEvents(
  res: Response,
  feed: Observable<FeedState>,
  { after, types, signal }: StreamOptions,
): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  try {
    let cursor = 0;
    for await (const state of latest(feed, signal)) {
      while (cursor < state.events.length && !signal.aborted) {
        const event = state.events[cursor++];
        if (event.seq <= after || (types && !types.has(event.type))) continue;
        if (!res.write(formatEvent(event))) await drained(res, signal);
      }
      if (state.closed && !signal.aborted) {
        res.write(DONE);
        break;
      }
    }
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
}
