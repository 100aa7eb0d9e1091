import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { BehaviorSubject } from 'rxjs';
import type { LiveTaskEvent, TaskEvent } from '../tasks/task-event';
import { HEARTBEAT_MS, streamEvents } from './sse-stream';
import type { FeedState, LiveEntry } from './task-event-feeds';

/** A response whose socket accepts `capacity` writes before it needs a drain. */
class FakeResponse extends EventEmitter {
  readonly chunks: string[] = [];
  ended = false;
  capacity = Infinity;
  status = jest.fn(() => this);
  setHeader = jest.fn();
  flushHeaders = jest.fn();

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return this.chunks.length < this.capacity;
  }

  end(): void {
    this.ended = true;
  }

  drain(more: number): void {
    this.capacity = this.chunks.length + more;
    this.emit('drain');
  }
}

const event = (seq: number): TaskEvent => ({
  workflow_id: 'task-1',
  type: 'PROGRESS',
  message: `m${seq}`,
  timestamp: '2026-01-01T00:00:00.000Z',
  seq,
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('streamEvents', () => {
  it('writes no more while the socket is full, and goes on after drain without losing events', async () => {
    const events = [event(1), event(2), event(3)];
    const feed = new BehaviorSubject<FeedState>({ events, closed: true });
    const res = new FakeResponse();
    res.capacity = 1;

    const done = streamEvents(res as unknown as Response, feed, {
      after: 0,
      signal: new AbortController().signal,
    });
    await flush();
    expect(res.chunks).toHaveLength(1);

    res.drain(10);
    await done;
    expect(res.chunks).toEqual([
      `id: 1\nevent: PROGRESS\ndata: ${JSON.stringify(event(1))}\n\n`,
      `id: 2\nevent: PROGRESS\ndata: ${JSON.stringify(event(2))}\n\n`,
      `id: 3\nevent: PROGRESS\ndata: ${JSON.stringify(event(3))}\n\n`,
      'event: done\ndata: [DONE]\n\n',
    ]);
    expect(res.ended).toBe(true);
  });

  it('sends live events as the feed grows, skips those up to `after`, and pings while idle', async () => {
    jest.useFakeTimers();
    try {
      const events: TaskEvent[] = [event(1), event(2)];
      const feed = new BehaviorSubject<FeedState>({ events, closed: false });
      const res = new FakeResponse();
      const abort = new AbortController();

      const done = streamEvents(res as unknown as Response, feed, {
        after: 1,
        signal: abort.signal,
      });
      await jest.advanceTimersByTimeAsync(HEARTBEAT_MS);
      expect(res.chunks).toEqual([expect.stringContaining('id: 2\n'), ': ping\n\n']);

      events.push(event(3));
      feed.next({ events, closed: false });
      await jest.advanceTimersByTimeAsync(0);
      expect(res.chunks.at(-1)).toContain('id: 3\n');

      abort.abort();
      await done;
      expect(res.ended).toBe(true);
      expect(res.chunks.at(-1)).not.toContain('[DONE]');
    } finally {
      jest.useRealTimers();
    }
  });

  it('ends with an error event when the task is gone, after the events it had', async () => {
    const feed = new BehaviorSubject<FeedState>({ events: [event(1)], closed: false });
    const res = new FakeResponse();
    const done = streamEvents(res as unknown as Response, feed, {
      after: 0,
      signal: new AbortController().signal,
    });
    feed.next({ events: [event(1)], closed: false, failure: new Error('Task not found') });
    await done;
    expect(res.chunks).toEqual([
      expect.stringContaining('id: 1\n'),
      'event: error\ndata: {"error":"Task not found"}\n\n',
    ]);
    expect(res.ended).toBe(true);
  });

  it('ends with an error event at the heartbeat after the client lost its right to read', async () => {
    jest.useFakeTimers();
    try {
      const feed = new BehaviorSubject<FeedState>({ events: [], closed: false });
      const res = new FakeResponse();
      const access: { refusal?: string } = {};
      const done = streamEvents(res as unknown as Response, feed, {
        after: 0,
        signal: new AbortController().signal,
        refusal: () => access.refusal,
      });
      await jest.advanceTimersByTimeAsync(HEARTBEAT_MS);
      access.refusal = 'Unauthorized';
      await jest.advanceTimersByTimeAsync(HEARTBEAT_MS);
      await done;
      expect(res.chunks).toEqual([
        ': ping\n\n',
        'event: error\ndata: {"error":"Unauthorized"}\n\n',
      ]);
      expect(res.ended).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('sends events held from further back once, in order, when the feed extends backwards', async () => {
    const feed = new BehaviorSubject<FeedState>({ events: [event(5), event(6)], closed: false });
    const res = new FakeResponse();
    const done = streamEvents(res as unknown as Response, feed, {
      after: 4,
      signal: new AbortController().signal,
    });
    await flush();
    // Another reader made the feed hold older events: this reader has sent 5 and 6 already.
    feed.next({ events: [event(2), event(3), event(5), event(6), event(7)], closed: true });
    await done;
    expect(res.chunks.map((c) => c.split('\n')[0])).toEqual([
      'id: 5',
      'id: 6',
      'id: 7',
      'event: done',
    ]);
  });

  it('ends the response when the feed fails', async () => {
    const feed = new BehaviorSubject<FeedState>({ events: [], closed: false });
    const res = new FakeResponse();
    const done = streamEvents(res as unknown as Response, feed, {
      after: 0,
      signal: new AbortController().signal,
    });
    feed.error(new Error('Temporal went away'));
    await expect(done).rejects.toThrow('Temporal went away');
    expect(res.ended).toBe(true);
  });

  describe('live events', () => {
    const partial = (delta: string): LiveTaskEvent => ({
      workflow_id: 'task-1',
      type: 'LLM_PARTIAL',
      message: 'Step 1 output so far',
      timestamp: '2026-01-01T00:00:00.000Z',
      step: 1,
      delta,
    });
    const entry = (at: number, delta: string): LiveEntry => ({ at, event: partial(delta) });
    const lines = (res: FakeResponse) => res.chunks.map((c) => c.split('\n')[0]);

    it('writes them without an id, each after the task events up to its place', async () => {
      const feed = new BehaviorSubject<FeedState>({ events: [event(1)], closed: false, live: [] });
      const res = new FakeResponse();
      const done = streamEvents(res as unknown as Response, feed, {
        after: 0,
        signal: new AbortController().signal,
      });
      await flush();
      // One state brings task events on both sides of two live events.
      feed.next({
        events: [event(1), event(2), event(3), event(5)],
        closed: true,
        live: [entry(3, 'Hel'), entry(4, 'lo')],
      });
      await done;
      expect(res.chunks).toEqual([
        expect.stringContaining('id: 1\n'),
        expect.stringContaining('id: 2\n'),
        expect.stringContaining('id: 3\n'),
        `event: LLM_PARTIAL\ndata: ${JSON.stringify(partial('Hel'))}\n\n`,
        `event: LLM_PARTIAL\ndata: ${JSON.stringify(partial('lo'))}\n\n`,
        expect.stringContaining('id: 5\n'),
        'event: done\ndata: [DONE]\n\n',
      ]);
    });

    it('sends a reader only those made after it started, and filters them by type', async () => {
      const feed = new BehaviorSubject<FeedState>({
        events: [event(1)],
        closed: false,
        live: [entry(1, 'before')],
        liveBase: 5,
      });
      const all = new FakeResponse();
      const filtered = new FakeResponse();
      const signal = new AbortController().signal;
      const done = [
        streamEvents(all as unknown as Response, feed, { after: 0, signal }),
        streamEvents(filtered as unknown as Response, feed, {
          after: 0,
          signal,
          types: new Set(['WORKFLOW_COMPLETED']),
        }),
      ];
      await flush();
      // The feed dropped the oldest live event meanwhile: places are counted from the first.
      feed.next({
        events: [event(1)],
        closed: true,
        live: [entry(1, 'after')],
        liveBase: 6,
      });
      await Promise.all(done);
      expect(lines(all)).toEqual(['id: 1', 'event: LLM_PARTIAL', 'event: done']);
      expect(all.chunks[1]).toContain('"delta":"after"');
      expect(lines(filtered)).toEqual(['event: done']);
    });
  });
});
