/**
 * Following a task's event stream (Server-Sent Events) as an async iterator, parsed with
 * eventsource-parser. A dropped connection is resumed with `Last-Event-ID`: the server sends
 * exactly the events after it, so a reader sees each stored event once and in order.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { TaskApiError, errorBody } from './errors';
import type { components } from './schema';

export type TaskEventType = components['schemas']['TaskEventDto']['type'];

/** A stored event of a task: the same object as `GET /api/v1/tasks/{id}/events` lists. */
export type TaskEvent = components['schemas']['TaskEventDto'] & Record<string, unknown>;

export type LiveEventType = 'LLM_PARTIAL' | 'LLM_OUTPUT';

/** The text of a step while it streams: sent only to open streams, never stored or replayed. */
export interface LiveTaskEvent {
  workflow_id: string;
  type: LiveEventType;
  message: string;
  timestamp: string;
  step: number;
  /** LLM_PARTIAL: the text added since the last one. */
  delta?: string;
  /** LLM_PARTIAL: the step started over; `delta` is its whole text so far. */
  restart?: boolean;
  /** LLM_OUTPUT: the step's whole text. */
  output?: string;
}

/** One event of a stream: a stored event with its id, or a live one without. */
export type TaskStreamEvent =
  | { id: number; type: TaskEventType; data: TaskEvent }
  | { id: undefined; type: LiveEventType; data: LiveTaskEvent };

export interface FollowOptions {
  /** Send only the events after this id (the `id` of the last event already seen). */
  lastEventId?: number;
  /** Send only these event types. */
  types?: readonly (TaskEventType | LiveEventType)[];
  /** Stops following: the iterator ends with the abort's reason. */
  signal?: AbortSignal;
  /** Wait before reconnecting after a dropped connection (1000 ms, or what the server says). */
  reconnectDelayMs?: number;
  /** Give up after this many reconnects in a row that received no event (default: never). */
  maxReconnects?: number;
}

/** The stream ended with `event: error` (the task is gone, the key was revoked). */
export class TaskStreamError extends Error {
  constructor(readonly body: { error: string }) {
    super(body.error);
    this.name = 'TaskStreamError';
  }
}

/** Answers that say "try again shortly": the stream is reconnected, not given up. */
const PASSING = new Set([502, 503, 504]);

interface Connection extends FollowOptions {
  apiKey: string;
  fetch: typeof fetch;
}

/** Follows the stream at `url`; ends after the `done` event. */
export async function* followStream(
  url: URL,
  { apiKey, fetch: fetchImpl, lastEventId, types, signal, ...options }: Connection,
): AsyncGenerator<TaskStreamEvent, void> {
  if (types !== undefined) url.searchParams.set('types', types.join(','));
  let last = lastEventId;
  let delayMs = options.reconnectDelayMs ?? 1000;
  let failures = 0;
  for (;;) {
    // Ours to abort when the reader stops early (break, return, throw).
    const connection = new AbortController();
    const stop = signal ? AbortSignal.any([signal, connection.signal]) : connection.signal;
    const messages: EventSourceMessage[] = [];
    const parser = createParser({
      onEvent: (message) => messages.push(message),
      onRetry: (ms) => (delayMs = ms),
    });
    try {
      const response = await fetchImpl(url, {
        headers: {
          Accept: 'text/event-stream',
          'X-API-Key': apiKey,
          ...(last !== undefined && { 'Last-Event-ID': String(last) }),
        },
        signal: stop,
      });
      if (!response.ok || !response.body) {
        throw new TaskApiError(response.status, errorBody(await readError(response), response));
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
        for (const message of messages.splice(0)) {
          if (message.event === 'done') return;
          if (message.event === 'error') throw new TaskStreamError(parseError(message.data));
          const event = toStreamEvent(message);
          if (event.id !== undefined) last = event.id;
          failures = 0;
          yield event;
        }
      }
      // Ended without `done`: the server went away (restart, shutdown). Resume.
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      if (err instanceof TaskStreamError) throw err;
      if (err instanceof TaskApiError && !PASSING.has(err.status)) throw err;
      // A dropped connection or a passing refusal: reconnect below.
    } finally {
      connection.abort();
    }
    failures++;
    if (failures > (options.maxReconnects ?? Infinity)) {
      throw new Error(`The event stream at ${url.pathname} dropped ${failures} times in a row`);
    }
    await wait(delayMs, signal);
  }
}

function toStreamEvent(message: EventSourceMessage): TaskStreamEvent {
  const data = JSON.parse(message.data) as TaskEvent | LiveTaskEvent;
  return message.id
    ? { id: Number(message.id), type: data.type as TaskEventType, data: data as TaskEvent }
    : { id: undefined, type: data.type as LiveEventType, data: data as LiveTaskEvent };
}

function parseError(data: string): { error: string } {
  try {
    const body = JSON.parse(data) as { error?: unknown };
    if (typeof body.error === 'string') return { error: body.error };
  } catch {
    // Not JSON: the text is the message.
  }
  return { error: data };
}

/** The parsed JSON of an error answer, or its text. */
async function readError(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('Aborted');
}
