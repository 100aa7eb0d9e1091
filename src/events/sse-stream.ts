import type { Response } from 'express';
import type { Observable } from 'rxjs';
import { indexAfterSeq, type LiveTaskEvent, type TaskEvent } from '../tasks/task-event';
import type { FeedState, LiveEntry } from './task-event-feeds';

/** Comment lines keep proxies and clients from timing out an idle stream (spec: ≤ 15 s). */
export const HEARTBEAT_MS = 10_000;

export const formatEvent = (event: TaskEvent): string =>
  `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

/** A live event has no id: it is not part of the task's events and is never replayed. */
export const formatLiveEvent = (event: LiveTaskEvent): string =>
  `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

const DONE = 'event: done\ndata: [DONE]\n\n';

/** The last thing a stream that cannot go on sends: why, as a JSON error body. */
export const formatError = (message: string): string =>
  `event: error\ndata: ${JSON.stringify({ error: message })}\n\n`;

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
  /**
   * Asked at each heartbeat: a message to end the stream with (an `error` event), e.g. once
   * the client's key has been revoked; undefined to go on.
   */
  refusal?: () => string | undefined;
}

/**
 * Writes a task's events as Server-Sent Events: those after `after`, then live ones, then
 * `done` once the task is closed. Waits for the socket to drain before writing more, so a slow
 * client costs a place in the feed (a seq), never a buffer. A feed that cannot go on (the task
 * is gone) ends the stream with an `error` event instead.
 */
export async function streamEvents(
  res: Response,
  feed: Observable<FeedState>,
  { after, types, signal, refusal }: StreamOptions,
): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  const ended = new AbortController();
  const stop = AbortSignal.any([signal, ended.signal]);
  const heartbeat = setInterval(() => {
    const refused = refusal?.();
    if (refused === undefined) {
      res.write(': ping\n\n');
      return;
    }
    res.write(formatError(refused));
    ended.abort();
  }, HEARTBEAT_MS);
  try {
    let sent = after;
    /** Index (counting from the feed's first) of the next live event to send. */
    let nextLive: number | undefined;
    for await (const state of latest(feed, stop)) {
      const live = state.live ?? [];
      const liveBase = state.liveBase ?? 0;
      // Live events are for the readers there when they were made: start with the next one.
      nextLive ??= liveBase + live.length;
      let i = indexAfterSeq(state.events, sent);
      let j = Math.max(nextLive, liveBase) - liveBase;
      while (!stop.aborted && (i < state.events.length || j < live.length)) {
        // Task events up to a live event's place go first; it comes before the later ones.
        const entry: LiveEntry | undefined = live[j];
        const event: TaskEvent | undefined = state.events[i];
        let chunk: string | undefined;
        if (event && (!entry || event.seq <= entry.at)) {
          i++;
          sent = event.seq;
          if (!types || types.has(event.type)) chunk = formatEvent(event);
        } else {
          j++;
          nextLive = liveBase + j;
          if (!types || types.has(entry.event.type)) chunk = formatLiveEvent(entry.event);
        }
        if (chunk !== undefined && !res.write(chunk)) await drained(res, stop);
      }
      if (stop.aborted) break;
      if (state.failure) {
        res.write(formatError(state.failure.message));
        break;
      }
      if (state.closed) {
        res.write(DONE);
        break;
      }
    }
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
}
