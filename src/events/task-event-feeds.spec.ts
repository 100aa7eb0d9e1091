import { firstValueFrom, filter, type Observable } from 'rxjs';
import { loadConfig } from '../config/app-config';
import { TaskNotFoundError, TaskServiceUnavailableError } from '../tasks/errors';
import type { TaskEvent } from '../tasks/task-event';
import { TaskChanges } from '../tasks/task-changes';
import { SharedRedis } from '../redis/shared-redis';
import { TaskNotices } from './task-notices';
import { waitFor } from '../testing/wait';
import { FakeSubscriber, fakeSharedRedis } from '../testing/fake-redis';
import { CHANGED_NOTICE, STREAMING_NOTICE, taskChangedChannel } from '../workflows/contract';
import { TaskHistoryFold, type TaskSnapshot } from '../tasks/task-history';
import type { PendingActivity } from '../temporal/task-workflow.gateway';
import { taskSnapshot } from '../testing/task-snapshot';
import { TaskEventFeeds, type FeedState } from './task-event-feeds';
import { LONG_POLL_MAX_REREAD, type EventCursor, type TaskEventLog } from './task-event-log';

const event = (taskId: string, seq: number): TaskEvent => ({
  workflow_id: taskId,
  type: 'PROGRESS',
  message: `m${seq}`,
  timestamp: '2026-01-01T00:00:00.000Z',
  seq,
});

/**
 * The Temporal side of feeds, scripted per task: what a replay returns, and what each tail read
 * or long poll round does (events to return, or an error to throw). Calls are recorded.
 */
/** A function step that answers undefined is not ready: the read finds nothing and it stays. */
type Step = TaskEvent[] | Error | ((cursor: EventCursor) => TaskEvent[] | undefined);

class ScriptedLog {
  readonly calls: string[] = [];
  readonly tail = new Map<string, Step[]>();
  readonly polls = new Map<string, Step[]>();
  /** What each read of a task's running step activities answers, in turn; then none. */
  readonly pending = new Map<string, PendingActivity[][]>();
  /** How many history events a replay of the task reads up to (1 unless set). */
  readonly historyLength = new Map<string, number>();

  pendingSteps(cursor: EventCursor): Promise<PendingActivity[]> {
    this.calls.push(`pendingSteps ${cursor.taskId}`);
    return Promise.resolve(this.pending.get(cursor.taskId)?.shift() ?? []);
  }

  replay(task: { taskId: string }, after: number) {
    this.calls.push(`replay ${task.taskId} ${after}`);
    const cursor: EventCursor = {
      taskId: task.taskId,
      runId: 'run-1',
      position: this.historyLength.get(task.taskId) ?? 1,
      closed: false,
      // The fold starts from the task as given: a task in the middle of a step, for one.
      fold: new TaskHistoryFold(task.taskId, 'run-1', task as TaskSnapshot),
    };
    return Promise.resolve({ events: after < 1 ? [event(task.taskId, 1)] : [], cursor });
  }

  advance(cursor: EventCursor, changed = false): Promise<TaskEvent[]> {
    this.calls.push(`advance ${cursor.taskId}${changed ? ' (noticed)' : ''}`);
    return this.next(this.tail, cursor);
  }

  async *longPoll(cursor: EventCursor, signal: AbortSignal): AsyncGenerator<TaskEvent[]> {
    this.calls.push(`longPoll ${cursor.taskId}`);
    while (!cursor.closed && !signal.aborted) {
      const events = await this.next(this.polls, cursor);
      yield events;
      // Nothing new: an idle long poll, answered when the task changes.
      if (events.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
  }

  private next(script: Map<string, Step[]>, cursor: EventCursor) {
    const next = script.get(cursor.taskId)?.shift() ?? [];
    if (next instanceof Error) return Promise.reject(next);
    let step = typeof next === 'function' ? next(cursor) : next;
    if (step === undefined) {
      script.get(cursor.taskId)!.unshift(next);
      step = [];
    }
    const last = step.at(-1);
    // As the real log does: the cursor stands at the last event read.
    if (last) cursor.position = Math.max(cursor.position, last.seq);
    if (last?.type === 'WORKFLOW_COMPLETED') cursor.closed = true;
    return Promise.resolve(step);
  }
}

const completed = (taskId: string, seq: number): TaskEvent => ({
  ...event(taskId, seq),
  type: 'WORKFLOW_COMPLETED',
});

/** Resolves with the first state the feed reaches that `done` accepts. */
const until = (feed: Observable<FeedState>, done: (state: FeedState) => boolean) =>
  firstValueFrom(feed.pipe(filter(done)));

function feeds(
  log: ScriptedLog,
  maxLongPolls: number,
  {
    changes = new TaskChanges(),
    interval = 1000,
    rate = 1000,
    subscriber = undefined as FakeSubscriber | undefined,
  } = {},
) {
  const config = loadConfig({
    STREAM_MAX_LONG_POLLS: String(maxLongPolls),
    STREAM_TAIL_READS_PER_SECOND: String(rate),
    STREAM_TAIL_READ_INTERVAL_MS: String(interval),
  });
  // With a subscriber, notices from workers and other instances (through Redis) reach it.
  const redis = subscriber ? fakeSharedRedis(subscriber) : new SharedRedis();
  const notices = new TaskNotices(redis, changes);
  return new TaskEventFeeds(log as unknown as TaskEventLog, config, notices);
}

describe('TaskEventFeeds', () => {
  it('long-polls up to its limit and follows further tasks by tail reads', async () => {
    const log = new ScriptedLog();
    log.polls.set('a', [[event('a', 2)]]);
    log.tail.set('b', [[], [event('b', 2)], [completed('b', 3)]]);
    const registry = feeds(log, 1);
    // A reader that stays: task a keeps its long poll throughout.
    const reader = registry.follow(taskSnapshot({ taskId: 'a' }), 0).subscribe();

    const [a, b] = await Promise.all([
      until(registry.follow(taskSnapshot({ taskId: 'a' }), 0), (s) => s.events.length === 2),
      until(registry.follow(taskSnapshot({ taskId: 'b' }), 0), (s) => s.closed),
    ]);
    reader.unsubscribe();

    expect(a.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(b.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(log.calls.filter((c) => c.startsWith('longPoll'))).toEqual(['longPoll a']);
    expect(log.calls.filter((c) => c === 'advance b')).toHaveLength(3);
    registry.onApplicationShutdown();
  });

  it('follows a task with a long history by tail reads, with long polls to spare', async () => {
    const log = new ScriptedLog();
    log.historyLength.set('long', LONG_POLL_MAX_REREAD + 1);
    log.historyLength.set('short', LONG_POLL_MAX_REREAD);
    log.tail.set('long', [[event('long', 2)], [completed('long', 3)]]);
    log.polls.set('long', [[event('long', 2)], [completed('long', 3)]]);
    log.polls.set('short', [[completed('short', 2)]]);
    const registry = feeds(log, 10, { interval: 100 });

    const [long, short] = await Promise.all([
      until(registry.follow(taskSnapshot({ taskId: 'long' }), 0), (s) => s.closed),
      until(registry.follow(taskSnapshot({ taskId: 'short' }), 0), (s) => s.closed),
    ]);

    expect(long.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(short.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(log.calls.filter((c) => /^(longPoll|advance)/.test(c))).toEqual(
      expect.arrayContaining(['longPoll short', 'advance long']),
    );
    expect(log.calls).not.toContain('longPoll long');
    registry.onApplicationShutdown();
  });

  it('retries a failed read from where it stopped: no gap, no duplicate', async () => {
    const log = new ScriptedLog();
    const outage = new TaskServiceUnavailableError();
    log.tail.set('b', [outage, outage, [event('b', 2)], outage, [completed('b', 3)]]);
    const registry = feeds(log, 0);

    const state = await until(registry.follow(taskSnapshot({ taskId: 'b' }), 0), (s) => s.closed);

    expect(state.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(state.failure).toBeUndefined();
    registry.onApplicationShutdown();
  });

  it('carries on by tail reads when a long poll is refused, and gives its slot to a waiting task', async () => {
    const log = new ScriptedLog();
    const refused = Object.assign(new Error('namespace concurrent poller limit exceeded'), {
      code: 8,
    });
    log.polls.set('a', [refused]);
    log.tail.set('a', [[completed('a', 2)]]);
    log.polls.set('b', [[completed('b', 2)]]);
    const registry = feeds(log, 1);

    const a = registry.follow(taskSnapshot({ taskId: 'a' }), 0);
    const b = registry.follow(taskSnapshot({ taskId: 'b' }), 0);
    const [stateA, stateB] = await Promise.all([
      until(a, (s) => s.closed),
      until(b, (s) => s.closed),
    ]);

    expect(stateA.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(stateB.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(log.calls).toEqual(expect.arrayContaining(['longPoll a', 'advance a', 'longPoll b']));
    registry.onApplicationShutdown();
  });

  it('ends the feed with the error when the task no longer exists', async () => {
    const log = new ScriptedLog();
    log.tail.set('gone', [new TaskNotFoundError()]);
    const registry = feeds(log, 0);

    const state = await until(
      registry.follow(taskSnapshot({ taskId: 'gone' }), 0),
      (s) => s.failure !== undefined,
    );

    expect(state.failure).toBeInstanceOf(TaskNotFoundError);
    registry.onApplicationShutdown();
  });

  it('reads a tail-read task at once on a change notice, and again shortly if it found nothing yet', async () => {
    const log = new ScriptedLog();
    // The first read after the notice comes before Temporal wrote the change.
    log.tail.set('b', [[], [], [completed('b', 2)]]);
    const changes = new TaskChanges();
    // Without notices the task would not be read again within the test.
    const registry = feeds(log, 0, { changes, interval: 3_600_000 });
    const feed = registry.follow(taskSnapshot({ taskId: 'b' }), 0);
    const reader = feed.subscribe();
    await until(feed, (s) => s.events.length === 1);
    // What the feed started with is read from Temporal just now: no tail read is due yet.
    await new Promise((r) => setTimeout(r, 50));
    expect(log.calls).toEqual(['replay b 0']);

    changes.notify('b');
    const state = await until(feed, (s) => s.closed);

    expect(state.events.map((e) => e.seq)).toEqual([1, 2]);
    // Each read a notice asked for is made without a describe: the notice says it changed.
    expect(log.calls).toEqual(['replay b 0', ...Array(3).fill('advance b (noticed)')]);
    reader.unsubscribe();
    registry.onApplicationShutdown();
  });

  it("reads after a worker's notice a moment later, longer once a first read came too early; a decision's notice at once", async () => {
    const log = new ScriptedLog();
    const readAt = new Map<string, number[]>();
    /** Whether Temporal has written a task's next event: a read finds it, once. */
    const written = new Map<string, boolean>();
    const script = (taskId: string) => (cursor: EventCursor) => {
      readAt.set(taskId, [...(readAt.get(taskId) ?? []), Date.now()]);
      if (!written.get(taskId)) return undefined;
      written.set(taskId, false);
      return [event(taskId, cursor.position + 1)];
    };
    log.tail.set(
      'w',
      Array.from({ length: 4 }, () => script('w')),
    );
    log.tail.set(
      'd',
      Array.from({ length: 2 }, () => script('d')),
    );
    const subscriber = new FakeSubscriber();
    const changes = new TaskChanges();
    const registry = feeds(log, 0, { changes, interval: 3_600_000, subscriber });
    const followed = ['w', 'd'].map((id) => registry.follow(taskSnapshot({ taskId: id }), 0));
    const readers = followed.map((feed) => feed.subscribe());
    const events = (i: number) => until(followed[i], () => true).then((s) => s.events.length);
    // The read each task gets once its notices begin to arrive finds an event.
    written.set('w', true);
    written.set('d', true);
    await waitFor(
      'the first reads',
      async () => (await events(0)) === 2 && (await events(1)) === 2,
    );
    readAt.clear();

    // A worker's notice for w, then a decision on d: d is read first, w 20 ms after its notice.
    written.set('w', true);
    written.set('d', true);
    const first = Date.now();
    subscriber.emit('message', taskChangedChannel('w'), CHANGED_NOTICE);
    changes.notify('d');
    await waitFor('both reads', async () => (await events(0)) === 3 && (await events(1)) === 3);
    expect(readAt.get('d')![0]).toBeLessThanOrEqual(readAt.get('w')![0]);
    expect(readAt.get('w')![0] - first).toBeGreaterThanOrEqual(19);

    // That read found the change: the next notice waits a little less (19 ms); its read comes
    // before Temporal has written, so the one after waits a quarter longer (24 ms).
    readAt.clear();
    subscriber.emit('message', taskChangedChannel('w'), CHANGED_NOTICE);
    await waitFor('a read too early', () => readAt.has('w'));
    written.set('w', true);
    await waitFor('its follow-up', async () => (await events(0)) === 4);
    readAt.clear();
    written.set('w', true);
    const third = Date.now();
    subscriber.emit('message', taskChangedChannel('w'), CHANGED_NOTICE);
    await waitFor('the read', async () => (await events(0)) === 5);
    expect(readAt.get('w')![0] - third).toBeGreaterThanOrEqual(23);
    for (const reader of readers) reader.unsubscribe();
    registry.onApplicationShutdown();
  });

  it('keeps reading for a notice that came while a read ran, even when that read found an earlier change', async () => {
    const log = new ScriptedLog();
    let reads = 0;
    let release: (() => void) | undefined;
    /** The last event Temporal has written: the read as notices begin to arrive finds one. */
    let written = 2;
    log.advance = async (cursor: EventCursor) => {
      reads++;
      // The second read (the first notice's) is slow: the second notice comes while it runs.
      if (reads === 2) await new Promise<void>((resolve) => (release = resolve));
      const found = Array.from({ length: Math.max(0, written - cursor.position) }, (_, i) =>
        event('r', cursor.position + i + 1),
      );
      cursor.position = Math.max(cursor.position, written);
      // The second notice's change is written only after a read that came too early.
      if (reads === 3) written = 5;
      return found;
    };
    const subscriber = new FakeSubscriber();
    const registry = feeds(log, 0, { interval: 3_600_000, subscriber });
    const feed = registry.follow(taskSnapshot({ taskId: 'r' }), 0);
    const reader = feed.subscribe();
    await until(feed, (s) => s.events.length === 2);

    written = 3;
    subscriber.emit('message', taskChangedChannel('r'), CHANGED_NOTICE);
    await waitFor("the first notice's read", () => release !== undefined);
    written = 4;
    subscriber.emit('message', taskChangedChannel('r'), CHANGED_NOTICE);
    release!();

    // Without the second notice's own reads, the next read would be an hour away.
    const state = await until(feed, (s) => s.events.length === 5);
    expect(state.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(reads).toBe(4);
    reader.unsubscribe();
    registry.onApplicationShutdown();
  });

  it('with shared notices, gives periodic reads at most a quarter of the budget, and reads for notices at once', async () => {
    const log = new ScriptedLog();
    const reads: { taskId: string; at: number; noticed: boolean }[] = [];
    // Thirty tasks whose every read finds a change no notice announced: each wants a read
    // every 100 ms, 300 a second, against a budget of 40.
    log.advance = (cursor: EventCursor, noticed = false) => {
      reads.push({ taskId: cursor.taskId, at: Date.now(), noticed });
      cursor.position++;
      return Promise.resolve([event(cursor.taskId, cursor.position)]);
    };
    const changes = new TaskChanges();
    const registry = feeds(log, 0, {
      changes,
      interval: 100,
      rate: 40,
      subscriber: new FakeSubscriber(),
    });
    const readers = Array.from({ length: 30 }, (_, i) =>
      registry.follow(taskSnapshot({ taskId: `p${i}` }), 0).subscribe(),
    );
    // Past the reads each task gets as its notices begin to arrive.
    await waitFor('periodic reads', () => reads.filter((r) => !r.noticed).length >= 5);
    // A rate is counted over a window of time: one second of reads.
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const notice = Date.now();
    changes.notify('p7');
    await waitFor("the notice's read", () =>
      reads.some((r) => r.noticed && r.taskId === 'p7' && r.at >= notice),
    );
    const periodic = reads.filter((r) => !r.noticed && r.at >= from && r.at < notice);
    // A quarter of 40 a second: 10 in the second measured (one more for where it starts).
    expect(periodic.length).toBeLessThanOrEqual(11);
    // The notice's read came before the next two periodic reads.
    const noticeRead = reads.findIndex((r) => r.noticed && r.taskId === 'p7' && r.at >= notice);
    const periodicBefore = reads.slice(0, noticeRead).filter((r) => !r.noticed && r.at >= notice);
    expect(periodicBefore.length).toBeLessThanOrEqual(1);
    for (const reader of readers) reader.unsubscribe();
    registry.onApplicationShutdown();
  });

  it('with shared notices, reads a quiet task ever less often, and often again once a read finds what no notice announced', async () => {
    const log = new ScriptedLog();
    /** Times of the periodic reads (the notice reads when notices begin to arrive aside). */
    const reads: number[] = [];
    const periodic = (cursor: EventCursor) => {
      if (log.calls.at(-1) !== 'advance q') return undefined;
      reads.push(Date.now());
      // The sixth periodic read finds a change no notice announced.
      return reads.length === 6 ? [event('q', cursor.position + 1)] : undefined;
    };
    // (A step that answers events is used up: the second one goes on after the sixth read.)
    log.tail.set('q', [periodic, periodic]);
    const registry = feeds(log, 0, { interval: 100, subscriber: new FakeSubscriber() });
    const reader = registry.follow(taskSnapshot({ taskId: 'q' }), 0).subscribe();
    await waitFor('eight periodic reads', () => reads.length >= 8, 12_000);
    reader.unsubscribe();
    registry.onApplicationShutdown();

    const gaps = reads.slice(1).map((t, i) => t - reads[i]);
    // Each read that found nothing doubled the period, up to 20 times the configured 100 ms:
    // 200, 400, 800, 1600, 2000 ms (a loaded machine only makes them longer)...
    for (const [i, gap] of gaps.slice(0, 5).entries()) {
      expect([i, gap >= 100 * Math.min(2 ** (i + 1), 20) - 5]).toEqual([i, true]);
    }
    // ...and the one that found a change brought it back to 100 ms.
    expect([gaps[5], gaps[5] < gaps[4] / 4]).toEqual([gaps[5], true]);
  });

  it('with shared notices, starts the periodic reads over from the configured period when a notice found nothing', async () => {
    const log = new ScriptedLog();
    const periodic: number[] = [];
    const noticed: number[] = [];
    log.tail.set('q', [
      () => {
        (log.calls.at(-1) === 'advance q' ? periodic : noticed).push(Date.now());
        return undefined;
      },
    ]);
    const subscriber = new FakeSubscriber();
    const registry = feeds(log, 0, { interval: 100, subscriber });
    const reader = registry.follow(taskSnapshot({ taskId: 'q' }), 0).subscribe();
    // Quiet: the period doubles (200, 400 ms, then 800).
    await waitFor('three periodic reads', () => periodic.length >= 3, 10_000);
    const before = periodic.length;
    noticed.length = 0;
    // A notice whose change never shows (it came long before Temporal wrote, or was wrong).
    subscriber.emit('message', taskChangedChannel('q'), '1');
    await waitFor('two periodic reads after it', () => periodic.length >= before + 2, 15_000);
    reader.unsubscribe();
    registry.onApplicationShutdown();

    // Eight reads asked for by the notice, 25 ms to 3.2 s apart, then the periodic reads go on
    // from the configured period: the next one 200 ms later, not 1.6 s.
    expect(noticed).toHaveLength(8);
    const [last, next] = periodic.slice(before);
    expect(next - last).toBeLessThan(1000);
  }, 20_000);

  it('without shared notices, reads a quiet task at the configured period', async () => {
    const log = new ScriptedLog();
    const reads: number[] = [];
    log.tail.set(
      'q',
      Array.from({ length: 6 }, () => () => (reads.push(Date.now()), [])),
    );
    const registry = feeds(log, 0, { interval: 100 });
    const reader = registry.follow(taskSnapshot({ taskId: 'q' }), 0).subscribe();
    await waitFor('six periodic reads', () => reads.length >= 6, 20_000);
    reader.unsubscribe();
    registry.onApplicationShutdown();

    // Five periods of 100 ms; doubling would have taken 200 + 400 + 800 + 1600 + 2000 ms.
    expect(reads[5] - reads[0]).toBeLessThan(3000);
  });

  it('reads what a notice asked for before the periodic reads that are overdue', async () => {
    const log = new ScriptedLog();
    let written = false;
    log.tail.set('b', [() => (written ? [completed('b', 2)] : undefined)]);
    const changes = new TaskChanges();
    // Twenty tasks to read every 100 ms on a budget of 20 reads a second: always overdue.
    const registry = feeds(log, 0, { changes, interval: 100, rate: 20 });
    const others = Array.from({ length: 20 }, (_, i) =>
      registry.follow(taskSnapshot({ taskId: `p${i}` }), 0).subscribe(),
    );
    const feed = registry.follow(taskSnapshot({ taskId: 'b' }), 0);
    const reader = feed.subscribe();
    const reads = (prefix: string) => log.calls.filter((c) => c.startsWith(prefix)).length;
    await waitFor('the periodic reads to fall behind', () => reads('advance p') >= 30);

    // The notice comes before Temporal has written the change: its first read finds nothing.
    const before = log.calls.length;
    changes.notify('b');
    await waitFor('the read the notice asked for', () =>
      log.calls.slice(before).includes('advance b (noticed)'),
    );
    const first = log.calls.lastIndexOf('advance b (noticed)');
    written = true;
    const state = await until(feed, (s) => s.closed);

    expect(state.events.map((e) => e.seq)).toEqual([1, 2]);
    // Its follow-up, due 25 ms later, was the next read or nearly: not after the twenty overdue.
    const between = log.calls.slice(first + 1, log.calls.lastIndexOf('advance b (noticed)'));
    expect(between.length).toBeLessThanOrEqual(2);
    reader.unsubscribe();
    for (const other of others) other.unsubscribe();
    registry.onApplicationShutdown();
  });

  it('shares the read of streams opened at once on the same key, and only while it runs', async () => {
    const registry = feeds(new ScriptedLog(), 0);
    const reads: string[] = [];
    const read = (name: string) => () => {
      reads.push(name);
      return new Promise<string>((resolve) => setTimeout(() => resolve(`${name} read`), 10));
    };

    const together = await Promise.all([
      registry.opening('acme/a', read('first')),
      registry.opening('acme/a', read('second')),
      registry.opening('other/a', read('other tenant')),
    ]);
    expect(together).toEqual(['first read', 'first read', 'other tenant read']);
    expect(await registry.opening('acme/a', read('later'))).toBe('later read');
    expect(reads).toEqual(['first', 'other tenant', 'later']);
    registry.onApplicationShutdown();
  });

  it('shares one feed among the readers of a task and stops it when the last one leaves', async () => {
    const log = new ScriptedLog();
    const registry = feeds(log, 1);
    const task = taskSnapshot({ taskId: 'a' });

    const first = registry.follow(task, 0).subscribe();
    const second = registry.follow(task, 0).subscribe();
    await new Promise((r) => setTimeout(r, 20));
    expect(registry.size).toEqual({ feeds: 1, longPolls: 1 });
    expect(log.calls.filter((c) => c.startsWith('replay'))).toEqual(['replay a 0']);

    first.unsubscribe();
    expect(registry.size.feeds).toBe(1);
    second.unsubscribe();
    expect(registry.size.feeds).toBe(0);
    registry.onApplicationShutdown();
  });

  describe('live text of a streaming step', () => {
    // Heartbeats and tail reads are read once a second: these take a few seconds each.
    jest.setTimeout(15_000);
    const stepRunning = (taskId: string) =>
      taskSnapshot({
        taskId,
        progress: {
          checkpoint: 'pre_step_1',
          steps_done: 0,
          steps_total: 1,
          waiting: false,
          cancelled: false,
        },
      });
    const beat = (heartbeat: unknown): PendingActivity[] => [
      { activityType: 'runStep', started: true, attempt: 1, heartbeat },
    ];
    /** What the fold reads when the step's activity completes (event 7), then the close. */
    const stepCompletes =
      (log: ScriptedLog, taskId: string, output: string) => (cursor: EventCursor) => {
        if (log.pending.get(taskId)?.length) return undefined; // not before the heartbeats were read
        cursor.fold.onStepOutput?.(1, output, 7);
        cursor.fold.snapshot!.progress = {
          checkpoint: 'pre_synthesis',
          steps_done: 1,
          steps_total: 1,
          waiting: false,
          cancelled: false,
        };
        cursor.position = 8;
        return [event(taskId, 8)];
      };

    it.each([
      ['tail reads', 0],
      ['a long poll', 1],
    ])(
      'sends the text each heartbeat adds as a delta, the rest and LLM_OUTPUT when the step ends (task followed by %s)',
      async (_, maxLongPolls) => {
        const log = new ScriptedLog();
        log.pending.set('a', [
          beat({ step: 1, text: '' }),
          beat({ step: 1, text: 'Hel' }),
          beat({ step: 1, text: 'Hello wo' }),
        ]);
        const done = stepCompletes(log, 'a', 'Hello world');
        log.tail.set('a', [done, [completed('a', 9)]]);
        log.polls.set('a', [done, [completed('a', 9)]]);
        const registry = feeds(log, maxLongPolls);

        const state = await until(registry.follow(stepRunning('a'), 0), (s) => s.closed);

        const live = state.live!.map(({ at, event: e }) => ({ at, ...e, timestamp: undefined }));
        const common = { workflow_id: 'a', step: 1, timestamp: undefined };
        expect(live).toEqual([
          { at: 1, ...common, type: 'LLM_PARTIAL', message: 'Step 1 output so far', delta: 'Hel' },
          {
            at: 1,
            ...common,
            type: 'LLM_PARTIAL',
            message: 'Step 1 output so far',
            delta: 'lo wo',
          },
          // The rest of the text, placed where the step's activity completed.
          { at: 7, ...common, type: 'LLM_PARTIAL', message: 'Step 1 output so far', delta: 'rld' },
          { at: 7, ...common, type: 'LLM_OUTPUT', message: 'Step 1 output', output: 'Hello world' },
        ]);
        expect(state.events.map((e) => e.seq)).toEqual([1, 8, 9]);
        registry.onApplicationShutdown();
      },
    );

    it('starts over with restart: true when a retried step writes from the beginning', async () => {
      const log = new ScriptedLog();
      log.pending.set('a', [beat({ step: 1, text: 'First try' }), beat({ step: 1, text: 'Sec' })]);
      const done = stepCompletes(log, 'a', 'Second try');
      log.tail.set('a', [done, [completed('a', 9)]]);
      const registry = feeds(log, 0);

      const state = await until(registry.follow(stepRunning('a'), 0), (s) => s.closed);

      expect(state.live!.map(({ event: e }) => [e.type, e.delta ?? e.output, e.restart])).toEqual([
        ['LLM_PARTIAL', 'First try', undefined],
        ['LLM_PARTIAL', 'Sec', true],
        ['LLM_PARTIAL', 'ond try', undefined],
        ['LLM_OUTPUT', 'Second try', undefined],
      ]);
      registry.onApplicationShutdown();
    });

    /** A task whose step 1 starts after the feed opened (its tail reads fold it), then ends. */
    const stepStartsLater = (log: ScriptedLog, taskId: string, output: string) => {
      const started = (cursor: EventCursor) => {
        cursor.fold.snapshot!.progress = { ...stepRunning(taskId).progress! };
        cursor.position = 5;
        return [event(taskId, 5)];
      };
      let followedAt = 0;
      const ends = stepCompletes(log, taskId, output);
      log.tail.set(taskId, [
        started,
        // The step runs for a second and a half at least.
        (cursor) =>
          (followedAt ||= Date.now()) && Date.now() - followedAt < 1500 ? undefined : ends(cursor),
        [completed(taskId, 9)],
      ]);
    };

    it('with shared notices, reads no live text of a step that never says it streams', async () => {
      const log = new ScriptedLog();
      stepStartsLater(log, 'a', 'quiet output');
      const registry = feeds(log, 0, { interval: 100, subscriber: new FakeSubscriber() });

      const state = await until(registry.follow(taskSnapshot({ taskId: 'a' }), 0), (s) => s.closed);

      expect(state.events.map((e) => e.seq)).toEqual([1, 5, 8, 9]);
      expect(state.live).toEqual([]);
      expect(log.calls.filter((c) => c.startsWith('pendingSteps'))).toEqual([]);
      registry.onApplicationShutdown();
    });

    it('with shared notices, reads the live text of a step at once when its notice says it streams', async () => {
      const log = new ScriptedLog();
      log.pending.set('a', [beat({ step: 1, text: 'Hel' })]);
      stepStartsLater(log, 'a', 'Hello');
      const subscriber = new FakeSubscriber();
      const registry = feeds(log, 0, { interval: 100, subscriber });
      const feed = registry.follow(taskSnapshot({ taskId: 'a' }), 0);
      const reader = feed.subscribe();
      await waitFor('the step to be followed', () => log.calls.includes('advance a'));
      const noticedAt = Date.now();
      subscriber.emit('message', taskChangedChannel('a'), STREAMING_NOTICE);
      await waitFor('its live text to be read', () => log.calls.includes('pendingSteps a'));
      // Not after the ten seconds a step without a notice waits.
      expect(Date.now() - noticedAt).toBeLessThan(5000);
      const state = await until(feed, (s) => s.closed);
      reader.unsubscribe();

      expect(state.live!.map(({ event: e }) => [e.type, e.delta ?? e.output])).toEqual([
        ['LLM_PARTIAL', 'Hel'],
        ['LLM_PARTIAL', 'lo'],
        ['LLM_OUTPUT', 'Hello'],
      ]);
      registry.onApplicationShutdown();
    });

    it('reads a step whose heartbeats carry no text once, and sends nothing live for it', async () => {
      const log = new ScriptedLog();
      log.pending.set('a', [beat({ step: 1 })]);
      const done = stepCompletes(log, 'a', 'quiet output');
      log.tail.set('a', [done, [completed('a', 9)]]);
      const registry = feeds(log, 0);

      const state = await until(registry.follow(stepRunning('a'), 0), (s) => s.closed);

      expect(state.live).toEqual([]);
      expect(log.calls.filter((c) => c === 'pendingSteps a')).toHaveLength(1);
      registry.onApplicationShutdown();
    });
  });
});
