import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { BehaviorSubject, Observable } from 'rxjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConcurrencyLimit } from '../common/concurrency-limit';
import { AppConfig } from '../config/app-config';
import { TaskNotFoundError } from '../tasks/errors';
import type { LiveTaskEvent, TaskEvent } from '../tasks/task-event';
import type { TaskSnapshot } from '../tasks/task-history';
import { StepHeartbeat, checkpointBeforeStep } from '../workflows/contract';
import { NoticeDelay } from './notice-delay';
import { EventCursor, LONG_POLL_MAX_REREAD, TaskEventLog } from './task-event-log';
import { TaskNotices } from './task-notices';

/**
 * A live event and where it stands among the task's events: after every task event with a
 * `seq` up to `at` (a history event ID) and before the ones after.
 */
export interface LiveEntry {
  readonly at: number;
  readonly event: LiveTaskEvent;
}

/** What a task's feed knows so far. Readers keep their own place by `seq`. */
export interface FeedState {
  /** The events the feed holds, by increasing `seq`. */
  readonly events: readonly TaskEvent[];
  readonly closed: boolean;
  /** Set when the stream cannot go on: the task no longer exists. */
  readonly failure?: Error;
  /**
   * Live events (a step's streamed text), oldest first, for the readers there when they were
   * made; `liveBase` counts the older ones no longer held. Readers keep their place by index.
   */
  readonly live?: readonly LiveEntry[];
  readonly liveBase?: number;
}

/** A streaming step's heartbeats are looked at this often (the worker sends one a second)... */
const LIVE_MIN_INTERVAL_MS = 1000;
/**
 * ...and as often for this long while none has arrived (a model takes a moment to start), then
 * backing off up to LIVE_MAX_INTERVAL_MS (the step waits for a worker). With change notices a
 * step is read at once only when a notice says it streams, otherwise first after this long
 * (in case the notice was lost): a step that streams nothing costs no read at all.
 */
const LIVE_PATIENCE_MS = 10_000;
const LIVE_MAX_INTERVAL_MS = 8000;
/** Live events held per feed, for readers that are behind. */
const MAX_LIVE_EVENTS = 1000;

/** The step a task runs now, as its folded events tell; undefined between steps. */
function runningStep(task: TaskSnapshot | undefined): number | undefined {
  const progress = task?.progress;
  if (!progress || task.terminal || progress.waiting || progress.cancelled) return undefined;
  return progress.checkpoint === checkpointBeforeStep(progress.steps_done)
    ? progress.steps_done + 1
    : undefined;
}

const isStepHeartbeat = (value: unknown): value is StepHeartbeat =>
  typeof value === 'object' && value !== null && typeof (value as StepHeartbeat).step === 'number';

/** A running step followed for its streamed text. */
interface FollowedStep {
  step: number;
  /** The text sent as deltas so far. */
  sent: string;
  /** Unknown until its first heartbeat: whether it streams text. */
  streams?: boolean;
  /** Its activity completed: nothing more to look at. */
  ended: boolean;
  dueAt: number;
  interval: number;
  reading: boolean;
  /** When the feed began following it. */
  since: number;
}

/**
 * A worker's notice comes before Temporal has written what it announces (see NoticeDelay, for
 * when it is read first): a read that finds nothing new is tried again after 25 ms, doubling up
 * to 3.2 s (about 6 s in all).
 */
const NOTICE_FOLLOW_UPS = 8;
/** Tail reads in flight at once. */
const TAIL_CONCURRENCY = 16;
/**
 * Reads that open streams (the task, then its events up to now) in flight at once. A thousand
 * clients connecting together wait here for their turn instead of holding a thousand Temporal
 * calls at once, each with its buffers and a deadline that runs while it waits.
 */
const OPEN_CONCURRENCY = 32;
/**
 * With change notices, a periodic read only catches what sent none (a task terminated from
 * Temporal's CLI, a signal from another client while no worker runs). Each one that finds
 * nothing new doubles the task's period, up to this many times the configured one; one that
 * finds something brings it back.
 */
const MAX_QUIET_FACTOR = 20;
/**
 * With change notices, periodic reads take at most this share of the read budget: streams
 * opened together come due together, and a wave of thousands of safety-net reads would
 * otherwise hold Temporal (and the reads in flight) while the reads notices ask for wait.
 * Spread out this way, the wave does not come back.
 */
const SAFETY_NET_SHARE = 0.25;
/** Backoff after a failed read: from this, doubling, with jitter... */
const RETRY_MIN_MS = 250;
/** ...up to this. A stream outlives a Temporal outage: it retries for as long as it is open. */
const RETRY_MAX_MS = 10_000;

const backoff = (failures: number): number =>
  Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);

/** Resolves after `ms`, or at once when `signal` aborts. */
const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleep(ms, undefined, { signal }).catch(() => undefined);

/**
 * One task followed by this instance, shared by every stream of it here. It holds the task's
 * events from the earliest any of its readers asked for, and reads new ones as they are
 * written, by history long poll or by tail reads (see TaskEventFeeds).
 */
class TaskFeed {
  readonly state = new BehaviorSubject<FeedState>({ events: [], closed: false });
  readonly stop = new AbortController();
  readers = 0;
  mode: 'long-poll' | 'tail' = 'tail';
  /** When a tail read is due next (ms since the epoch). */
  dueAt = 0;
  reading = false;
  /** Reads left to find what the last change notice announced. */
  noticeFollowUps = 0;
  /** The last notice was a worker's: its first read tells NoticeDelay if it came late enough. */
  private workerNotice = false;
  /** Notices so far: a read knows whether one came while it ran. */
  private notices = 0;
  /** Periodic reads in a row that found nothing new. */
  private quietReads = 0;

  /**
   * A notice says the task changed: read it at once when what changed is written, a learned
   * moment later when a worker is writing it (or sooner, if due sooner), and again shortly
   * while that finds nothing.
   */
  noticed(notice: 'changed' | 'written'): void {
    this.workerNotice = notice === 'changed';
    const delay = this.workerNotice ? this.noticeDelay.current : 0;
    this.dueAt = Math.min(this.dueAt, Date.now() + delay);
    this.noticeFollowUps = NOTICE_FOLLOW_UPS;
    this.notices++;
  }
  /** Stops the change notices of this task. */
  stopNotices?: () => void;
  private failures = 0;
  private ended = false;
  private events: TaskEvent[] = [];
  /** Events with a greater seq are held. */
  private from = Number.POSITIVE_INFINITY;
  private cursor?: EventCursor;
  /** Serializes the replays that extend what is held. */
  private extending: Promise<void> = Promise.resolve();
  private live: readonly LiveEntry[] = [];
  private liveBase = 0;
  private step?: FollowedStep;
  /** A streaming notice came before its step was followed. */
  private streamingNotice = false;

  constructor(
    readonly task: TaskSnapshot,
    private readonly log: TaskEventLog,
    /** Reads that open streams take turns here (see OPEN_CONCURRENCY). */
    private readonly openings: ConcurrencyLimit,
    private readonly logger: Logger,
    /**
     * Change notices reach this instance: quiet tasks are read ever less often (readTail), and
     * steps that stream say so (see LIVE_PATIENCE_MS).
     */
    private readonly notified: boolean,
    /** When a worker's notices are read, shared by this instance's feeds. */
    private readonly noticeDelay: NoticeDelay,
    /**
     * Called when a step starts being followed: its heartbeats are read on the feeds' loop.
     * Without it no step is followed (no live events).
     */
    private readonly onStepFollowed?: () => void,
  ) {}

  /** The feed's last state was its end: closed, or failed for good. */
  get closed(): boolean {
    // A field, not the subject's value: the tail loop asks every feed many times a second.
    return this.ended;
  }

  /**
   * Whether a history long poll suits this task now: it re-reads the history from its start
   * before it waits, so only a short one.
   */
  get longPollable(): boolean {
    return (this.cursor?.position ?? 0) <= LONG_POLL_MAX_REREAD;
  }

  /**
   * Makes sure every event after `after` is held, reading the missing ones backwards from the
   * end of the history. Retried with backoff while Temporal cannot answer.
   */
  holdFrom(after: number): Promise<void> {
    this.extending = this.extending.then(async () => {
      for (let failures = 0; after < this.from && !this.closed; failures++) {
        try {
          this.hold(after, await this.openings.run(() => this.log.replay(this.task, after)));
          return;
        } catch (err) {
          this.failed(err, failures);
          if (this.closed) return;
          await abortableSleep(backoff(failures), this.stop.signal);
          if (this.stop.signal.aborted) return;
        }
      }
    });
    return this.extending;
  }

  private hold(after: number, replayed: { events: TaskEvent[]; cursor: EventCursor }): void {
    const first = !this.cursor;
    if (!this.cursor) {
      this.cursor = replayed.cursor;
      this.events = replayed.events;
      // A step running already may have said it streams before this feed listened.
      this.streamingNotice = true;
      // From here on, what the fold reads is new: steps that end now end live.
      this.cursor.fold.onStepOutput = (step, output, eventId) =>
        this.stepEnded(step, output, eventId);
    } else {
      // Keep what is held already; the replay may also have read newer events than the feed
      // has: those come again through the feed's own reads, in order.
      const older = replayed.events.filter((e) => e.seq <= this.from);
      this.events = [...older, ...this.events.filter((e) => e.seq > this.from)];
    }
    this.from = after;
    this.publish();
    if (first) this.streamingNotice = false;
  }

  /**
   * A tail read: one describe call, and the new events if there are any; after a change
   * notice, the read of the new events alone. Then the next one is due: shortly when a notice
   * announced what is not written yet, otherwise a period from now (`period` as configured,
   * longer for a quiet task while change notices reach this instance: MAX_QUIET_FACTOR).
   */
  async readTail(period: number): Promise<void> {
    if (!this.cursor || this.closed) return;
    const noticed = this.noticeFollowUps > 0;
    const learning = this.workerNotice && this.noticeFollowUps === NOTICE_FOLLOW_UPS;
    const notices = this.notices;
    // Not due again while this read runs, unless a notice comes meanwhile.
    this.dueAt = Number.POSITIVE_INFINITY;
    try {
      const position = this.cursor.position;
      this.append(await this.log.advance(this.cursor, noticed));
      this.recovered();
      const found = this.cursor.position > position;
      if (!noticed) this.quietReads = found ? 0 : this.quietReads + 1;
      if (this.notices !== notices) {
        // A notice came while this read ran: what it announces may be written only after the
        // read, so its own reads go on as it asked (what this one found or not says nothing).
      } else if (found) {
        if (learning) this.noticeDelay.firstRead(true);
        this.noticeFollowUps = 0;
      } else if (this.noticeFollowUps > 0) {
        if (learning) this.noticeDelay.firstRead(false);
        const followUp = Date.now() + 25 * 2 ** (NOTICE_FOLLOW_UPS - this.noticeFollowUps--);
        this.dueAt = Math.min(this.dueAt, followUp);
        // Every read the notice asked for came too early: the periodic reads start over from
        // the configured period, not from a quiet task's long one.
        if (this.noticeFollowUps === 0) this.quietReads = 0;
      }
    } catch (err) {
      this.failed(err);
      return;
    }
    if (this.dueAt === Number.POSITIVE_INFINITY) {
      const factor = this.notified ? Math.min(2 ** this.quietReads, MAX_QUIET_FACTOR) : 1;
      this.dueAt = Date.now() + period * factor;
    }
  }

  /** Follows the task with history long polls until it closes, the feed stops, or a poll fails. */
  async longPoll(): Promise<boolean> {
    if (!this.cursor) return false;
    try {
      for await (const events of this.log.longPoll(this.cursor, this.stop.signal)) {
        this.append(events);
        this.recovered();
      }
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  private append(events: readonly TaskEvent[]): void {
    if (events.length > 0 || this.cursor?.closed) {
      this.events = [...this.events, ...events];
      this.publish();
    }
  }

  private publish(): void {
    this.followStep();
    this.emit({
      events: this.events,
      closed: this.cursor?.closed ?? false,
      live: this.live,
      liveBase: this.liveBase,
    });
  }

  private emit(state: FeedState): void {
    this.ended = state.closed || state.failure !== undefined;
    this.state.next(state);
  }

  /** Whether a running step is followed for its text (its heartbeats are read now or later). */
  get followsStep(): boolean {
    const step = this.step;
    return !!step && !step.ended && step.streams !== false && !this.closed;
  }

  /** When the step's heartbeats are due to be read; undefined while a read is in flight. */
  get liveDueAt(): number | undefined {
    return this.followsStep && !this.step!.reading ? this.step!.dueAt : undefined;
  }

  /**
   * Reads the running step's last heartbeat (one describe call) and sends the text it added
   * since the last read as an `LLM_PARTIAL` delta. A step whose heartbeats carry no text does
   * not stream: it is not read again.
   */
  async readLive(): Promise<void> {
    const step = this.step;
    const cursor = this.cursor;
    if (!step || !cursor) return;
    step.reading = true;
    try {
      const pending = await this.log.pendingSteps(cursor);
      if (this.step !== step || step.ended) return;
      const beat = pending
        .map((a) => a.heartbeat)
        .find((h): h is StepHeartbeat => isStepHeartbeat(h) && h.step === step.step);
      if (beat && typeof beat.text === 'string') {
        step.streams = true;
        step.interval = LIVE_MIN_INTERVAL_MS;
        if (this.sendText(step, beat.text, cursor.position)) this.publish();
      } else if (beat) {
        step.streams = false;
      } else {
        const patient = Date.now() - step.since < LIVE_PATIENCE_MS;
        step.interval = patient
          ? LIVE_MIN_INTERVAL_MS
          : Math.min(step.interval * 2, LIVE_MAX_INTERVAL_MS);
      }
    } catch {
      // Live text is best effort: the step's output comes with its events anyway.
      step.interval = LIVE_MAX_INTERVAL_MS;
    } finally {
      step.reading = false;
      step.dueAt = Date.now() + step.interval;
    }
  }

  /** A notice says a step of the task streams text now: read it at once. */
  streamingNoticed(): void {
    const step = this.step;
    if (!this.onStepFollowed) return;
    if (!step || step.ended) {
      // The step it is about is not followed yet: the read that finds it is under way.
      this.streamingNotice = true;
      return;
    }
    // A step read before its first text said nothing yet: it does now.
    if (step.streams === false) step.streams = undefined;
    if (!step.reading) step.dueAt = Date.now();
    this.onStepFollowed();
  }

  /** Starts or stops following the running step as the folded events move on. */
  private followStep(): void {
    if (!this.onStepFollowed) return;
    const running = this.closed ? undefined : runningStep(this.cursor?.fold.snapshot);
    if (running === this.step?.step) return;
    const now = Date.now();
    const waitForNotice = this.notified && !this.streamingNotice;
    if (running !== undefined) this.streamingNotice = false;
    this.step =
      running === undefined
        ? undefined
        : {
            step: running,
            sent: '',
            ended: false,
            dueAt: waitForNotice ? now + LIVE_PATIENCE_MS : now,
            interval: LIVE_MIN_INTERVAL_MS,
            reading: false,
            since: now,
          };
    if (this.step) this.onStepFollowed();
  }

  /**
   * A step's activity completed (event `eventId`). A step that streamed gets the rest of its
   * text as a last delta, so the deltas a reader got add up to the output, then `LLM_OUTPUT`.
   */
  private stepEnded(step: number, output: string, eventId: number): void {
    const followed = this.step;
    if (!followed || followed.step !== step) return;
    followed.ended = true;
    // Published with the events being folded now.
    if (!followed.streams) return;
    this.sendText(followed, output, eventId);
    this.addLive(eventId, step, 'LLM_OUTPUT', `Step ${step} output`, { output });
  }

  /**
   * Adds what `text` adds to what was sent, as a delta; text that does not extend it (a retried
   * step starting over) is sent whole with `restart: true`. False when there is nothing new.
   */
  private sendText(step: FollowedStep, text: string, at: number): boolean {
    if (text === step.sent) return false;
    const restart = !text.startsWith(step.sent);
    const delta = restart ? text : text.slice(step.sent.length);
    step.sent = text;
    this.addLive(at, step.step, 'LLM_PARTIAL', `Step ${step.step} output so far`, {
      delta,
      ...(restart && { restart: true }),
    });
    return true;
  }

  private addLive(
    at: number,
    step: number,
    type: LiveTaskEvent['type'],
    message: string,
    fields: Record<string, unknown>,
  ): void {
    const event: LiveTaskEvent = {
      workflow_id: this.task.taskId,
      type,
      message,
      timestamp: new Date().toISOString(),
      step,
      ...fields,
    };
    let live = [...this.live, { at, event }];
    if (live.length > MAX_LIVE_EVENTS) {
      this.liveBase += live.length - MAX_LIVE_EVENTS;
      live = live.slice(-MAX_LIVE_EVENTS);
    }
    this.live = live;
  }

  private recovered(): void {
    if (this.failures > 0) this.logger.log(`Following task ${this.task.taskId} again`);
    this.failures = 0;
  }

  /** A transient failure is retried later from the same place; a missing task ends the feed. */
  private failed(err: unknown, failures = this.failures++): void {
    if (err instanceof TaskNotFoundError) {
      this.emit({ ...this.state.value, failure: err });
      return;
    }
    if (failures === 0) {
      this.logger.warn(
        `Reading task ${this.task.taskId} failed (${(err as Error).message}); retrying`,
      );
    }
    this.dueAt = Date.now() + backoff(failures);
  }

  /** Its last read failed: it waits out a backoff before the next one. */
  get failing(): boolean {
    return this.failures > 0;
  }
}

/** A read the tail loop may make next: a feed's new events, or its running step's text. */
interface ReadCandidate {
  feed: TaskFeed;
  dueAt: number;
  live: boolean;
  /** Asked for by a change notice, or live text: read before the periodic reads that are due. */
  urgent: boolean;
}

/** Due reads first, urgent ones before the others, each kind longest due first. */
function readsBefore(a: ReadCandidate, b: ReadCandidate, now: number): boolean {
  const rank = (c: ReadCandidate) => (c.dueAt > now ? 2 : c.urgent ? 0 : 1);
  const [ra, rb] = [rank(a), rank(b)];
  return ra !== rb ? ra < rb : a.dueAt < b.dueAt;
}

/** How a process uses its feeds; the API's streams take the defaults. */
export interface FeedOptions {
  /** Follow running steps for their streamed text (live events). Default true. */
  readonly live?: boolean;
}
export const FEED_OPTIONS = Symbol('FEED_OPTIONS');

/**
 * The tasks this instance follows for its event streams: one feed per task, shared by all
 * streams of it, alive while any is open. A feed follows its task with a history long poll
 * while fewer than `STREAM_MAX_LONG_POLLS` are held (Temporal caps long polls per namespace,
 * workers' polls included) and its history is short (a long poll re-reads it from the start);
 * beyond that, and for a feed whose long poll failed, by tail reads:
 * a describe call to see whether the history grew, then only the new events, at most
 * `STREAM_TAIL_READS_PER_SECOND` for all of them and once a second per task. A read that fails
 * is retried with backoff from where it stopped; a stream ends only with its task, its client,
 * the shutdown, or a task that no longer exists.
 */
@Injectable()
export class TaskEventFeeds implements OnApplicationShutdown {
  private readonly logger = new Logger('TaskEventFeeds');
  private readonly feeds = new Map<string, TaskFeed>();
  private longPolls = 0;
  private tailReads = 0;
  private tailLoop?: Promise<void>;
  private readonly stopping = new AbortController();
  private readonly openings = new ConcurrencyLimit(OPEN_CONCURRENCY);
  private readonly openingReads = new Map<string, Promise<unknown>>();
  private readonly noticeDelay = new NoticeDelay();

  constructor(
    private readonly log: TaskEventLog,
    private readonly config: AppConfig,
    private readonly notices: TaskNotices,
    @Optional() @Inject(FEED_OPTIONS) private readonly options: FeedOptions = {},
  ) {}

  /**
   * The task's feed, holding every event after `after`. States are emitted once the events
   * are held; the feed stops when its last subscriber leaves.
   */
  follow(task: TaskSnapshot, after: number): Observable<FeedState> {
    return new Observable<FeedState>((subscriber) => {
      const feed = this.feed(task);
      feed.readers++;
      let subscription: { unsubscribe(): void } | undefined;
      let left = false;
      feed.holdFrom(after).then(
        () => {
          if (left) return;
          subscription = feed.state.subscribe(subscriber);
          this.drive(feed);
        },
        (err: unknown) => subscriber.error(err),
      );
      return () => {
        left = true;
        subscription?.unsubscribe();
        if (--feed.readers === 0) this.drop(feed);
      };
    });
  }

  /**
   * Runs a read that opens a stream (the task itself, before its feed) in turn with the other
   * streams being opened. Streams opened at once with the same `key` (a tenant's task) share
   * one read: five thousand clients of one task connecting together cost one describe, not
   * five thousand. What they share is what a stream needs from it, the task's run and owner,
   * read as they asked.
   */
  opening<T>(key: string, read: () => Promise<T>): Promise<T> {
    const inFlight = this.openingReads.get(key) as Promise<T> | undefined;
    if (inFlight) return inFlight;
    const reading = this.openings.run(read).finally(() => this.openingReads.delete(key));
    this.openingReads.set(key, reading);
    return reading;
  }

  /**
   * Reads the task's new events: at once when the notice says they are written, a moment later
   * when a worker says it is writing them.
   */
  private wake(feed: TaskFeed, notice: 'changed' | 'written'): void {
    if (feed.mode !== 'tail' || feed.failing) return;
    feed.noticed(notice);
  }

  /** How many tasks this process follows, and how many of them by long poll. */
  get size(): { feeds: number; longPolls: number } {
    return { feeds: this.feeds.size, longPolls: this.longPolls };
  }

  onApplicationShutdown(): void {
    this.stopping.abort();
    for (const feed of this.feeds.values()) feed.stop.abort();
  }

  private feed(task: TaskSnapshot): TaskFeed {
    let feed = this.feeds.get(task.taskId);
    if (!feed) {
      const live = this.options.live === false ? undefined : () => this.startTailLoop();
      feed = new TaskFeed(
        task,
        this.log,
        this.openings,
        this.logger,
        this.notices.shared,
        this.noticeDelay,
        live,
      );
      this.feeds.set(task.taskId, feed);
    }
    return feed;
  }

  private drop(feed: TaskFeed): void {
    feed.stop.abort();
    feed.stopNotices?.();
    if (this.feeds.get(feed.task.taskId) === feed) this.feeds.delete(feed.task.taskId);
  }

  /** Starts following a feed once it holds its first events. */
  private drive(feed: TaskFeed): void {
    if (feed.reading || feed.closed) return;
    feed.reading = true;
    feed.stopNotices = this.notices.listen(feed.task.taskId, (notice) =>
      notice === 'streaming' ? feed.streamingNoticed() : this.wake(feed, notice),
    );
    if (this.longPolls < this.config.streams.maxLongPolls && feed.longPollable) {
      this.longPolls++;
      feed.mode = 'long-poll';
      void this.runLongPoll(feed);
      // A step already running when the feed started: its heartbeats are read on the loop.
      if (feed.followsStep) this.startTailLoop();
    } else {
      // It holds every event up to now: its first tail read is due a period from now, or at
      // once when a change notice comes (the first one as soon as notices are heard).
      feed.dueAt = Date.now() + this.config.streams.tailReadIntervalMs;
      this.startTailLoop();
    }
  }

  private async runLongPoll(feed: TaskFeed): Promise<void> {
    const ended = await feed.longPoll();
    this.longPolls--;
    // A failed long poll (a Temporal limit, an outage) carries on by tail reads, which retry
    // with backoff; its slot goes to a tail-read feed that has not failed.
    if (!ended && !feed.stop.signal.aborted) {
      feed.mode = 'tail';
      this.startTailLoop();
    }
    this.promote();
  }

  private promote(): void {
    if (this.longPolls >= this.config.streams.maxLongPolls) return;
    for (const feed of this.feeds.values()) {
      if (
        feed.mode === 'tail' &&
        feed.reading &&
        !feed.closed &&
        !feed.failing &&
        feed.longPollable
      ) {
        this.longPolls++;
        feed.mode = 'long-poll';
        void this.runLongPoll(feed);
        return;
      }
    }
  }

  private startTailLoop(): void {
    this.tailLoop ??= this.runTailLoop().finally(() => (this.tailLoop = undefined));
  }

  /**
   * Reads the tail-read feeds in turn, the one due longest ago first, within the budget of
   * reads per second. The heartbeats of steps that stream text, for live events, are read on
   * the same budget (whichever way their feed follows the history). Runs while there is any.
   */
  private async runTailLoop(): Promise<void> {
    const spacing = 1000 / this.config.streams.tailReadsPerSecond;
    /** When the next periodic read may start (with notices, see SAFETY_NET_SHARE). */
    let periodicFrom = 0;
    while (!this.stopping.signal.aborted) {
      const now = Date.now();
      const periodic = now >= periodicFrom;
      let next: ReadCandidate | undefined;
      let any = false;
      const consider = (candidate: ReadCandidate): void => {
        if (!next || readsBefore(candidate, next, now)) next = candidate;
      };
      for (const feed of this.feeds.values()) {
        if (!feed.reading || feed.closed) continue;
        if (feed.mode === 'tail') {
          any = true;
          // Reads a notice asked for go before the periodic ones, which may fall behind when
          // there are more tasks than the budget reads in a period.
          const urgent = feed.noticeFollowUps > 0;
          if (urgent || periodic) consider({ feed, dueAt: feed.dueAt, live: false, urgent });
        }
        // A step being read now keeps the loop going: it is due again once the read is done.
        if (feed.followsStep) any = true;
        const liveDueAt = feed.liveDueAt;
        if (liveDueAt !== undefined) consider({ feed, dueAt: liveDueAt, live: true, urgent: true });
      }
      if (!any) return;
      const wait = next ? next.dueAt - Date.now() : 0;
      if (!next || wait > 0 || this.tailReads >= TAIL_CONCURRENCY) {
        await sleep(Math.min(Math.max(wait, spacing), 50));
        continue;
      }
      const { feed, live, urgent } = next;
      if (!urgent && this.notices.shared) periodicFrom = now + spacing / SAFETY_NET_SHARE;
      this.tailReads++;
      if (live) {
        void feed.readLive().finally(() => this.tailReads--);
      } else {
        const period = this.config.streams.tailReadIntervalMs;
        void feed.readTail(period).finally(() => this.tailReads--);
      }
      await sleep(spacing);
    }
  }
}
