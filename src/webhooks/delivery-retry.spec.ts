import { loadConfig } from '../config/app-config';
import type { DeliveryProgress } from '../workflows/webhook-contract';
import {
  MAX_SESSION_WAIT_MS,
  RetryPolicy,
  afterDelivered,
  afterFailedAttempt,
  beforeAttempt,
} from './delivery-retry';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
/** No spread: each wait is its base value. */
const middle = () => 0.5;

/** The policy a worker runs with when nothing is configured. */
function productionPolicy(): RetryPolicy {
  const { retryInitialMs, retryMaxMs, retryWindowMs } = loadConfig({}).webhooks;
  return { initialMs: retryInitialMs, maxMs: retryMaxMs, windowMs: retryWindowMs };
}

/** Fails event `seq` at each of `times` in turn, from `progress`; the progress after each. */
function failAt(
  progress: DeliveryProgress,
  seq: number,
  times: number[],
  policy: RetryPolicy,
  random = middle,
) {
  const steps = [];
  for (const now of times) {
    const step = afterFailedAttempt(progress, seq, now, policy, random);
    steps.push(step);
    progress = step.progress;
  }
  return steps;
}

describe('the production retry schedule', () => {
  it('is 5 s doubling to an hour, for 24 h', () => {
    expect(productionPolicy()).toEqual({ initialMs: 5000, maxMs: HOUR, windowMs: 24 * HOUR });
  });

  it('waits 5, 10, 20, 40 s in the session and ends the session from the fifth failure on', () => {
    const policy = productionPolicy();
    let now = T0;
    const waits: number[] = [];
    const next: string[] = [];
    let progress: DeliveryProgress = { seq: 6, failures: 0, given_up: 0 };
    for (let attempt = 1; attempt <= 12; attempt++) {
      const failed = afterFailedAttempt(progress, 7, now, policy, middle);
      progress = failed.progress;
      const dueAt = Date.parse(progress.retrying!.next_at);
      waits.push((dueAt - now) / 1000);
      next.push(beforeAttempt(progress, 7, now, now + HOUR).kind);
      now = dueAt;
    }
    expect(waits).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
    expect(next).toEqual(['wait', 'wait', 'wait', 'wait', ...Array<string>(8).fill('end-session')]);
  });

  it('never waits in the session for longer than a minute, whatever the spread', () => {
    const policy = productionPolicy();
    for (const random of [() => 0, middle, () => 0.999]) {
      const [, , , fourth, fifth] = failAt(
        { seq: 0, failures: 0, given_up: 0 },
        1,
        [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4],
        policy,
        random,
      );
      // The fourth wait is at most 48 s (40 s + 20 %); the fifth at least 64 s (80 s - 20 %).
      expect(beforeAttempt(fourth.progress, 1, T0 + 3, T0 + HOUR)).toEqual({
        kind: 'wait',
        ms: Date.parse(fourth.progress.retrying!.next_at) - (T0 + 3),
      });
      expect(beforeAttempt(fifth.progress, 1, T0 + 4, T0 + HOUR)).toEqual({
        kind: 'end-session',
      });
    }
  });
});

describe('afterFailedAttempt', () => {
  const policy: RetryPolicy = { initialMs: 5000, maxMs: HOUR, windowMs: 24 * HOUR };

  it('records the first failure of an event: counted, retried after the first wait', () => {
    expect(afterFailedAttempt({ seq: 4, failures: 2, given_up: 1 }, 9, T0, policy, middle)).toEqual(
      {
        attempts: 1,
        givenUp: false,
        progress: {
          seq: 4,
          failures: 3,
          given_up: 1,
          retrying: { seq: 9, since: iso(T0), attempts: 1, next_at: iso(T0 + 5000) },
        },
      },
    );
  });

  it('keeps when the event first failed across its retries', () => {
    const [, second] = failAt({ seq: 4, failures: 0, given_up: 0 }, 9, [T0, T0 + 5000], policy);
    expect(second).toEqual({
      attempts: 2,
      givenUp: false,
      progress: {
        seq: 4,
        failures: 2,
        given_up: 0,
        retrying: { seq: 9, since: iso(T0), attempts: 2, next_at: iso(T0 + 15_000) },
      },
    });
  });

  it('gives the event up at the first failure 24 h or more after its first one, and records it', () => {
    const retrying = (since: number) => ({
      seq: 4,
      failures: 30,
      given_up: 1,
      retrying: { seq: 9, since: iso(since), attempts: 30, next_at: iso(T0) },
    });
    // One millisecond short of the window: retried once more.
    expect(afterFailedAttempt(retrying(T0 - 24 * HOUR + 1), 9, T0, policy, middle)).toEqual({
      attempts: 31,
      givenUp: false,
      progress: {
        seq: 4,
        failures: 31,
        given_up: 1,
        retrying: {
          seq: 9,
          since: iso(T0 - 24 * HOUR + 1),
          attempts: 31,
          next_at: iso(T0 + HOUR),
        },
      },
    });
    // At the window: done with it (seq moves on), one more failure, one more given up.
    expect(afterFailedAttempt(retrying(T0 - 24 * HOUR), 9, T0, policy, middle)).toEqual({
      attempts: 31,
      givenUp: true,
      progress: { seq: 9, failures: 31, given_up: 2 },
    });
  });

  it('starts a new retry for another event than the one the progress was retrying', () => {
    const progress: DeliveryProgress = {
      seq: 4,
      failures: 5,
      given_up: 0,
      retrying: { seq: 3, since: iso(T0 - 25 * HOUR), attempts: 5, next_at: iso(T0) },
    };
    expect(afterFailedAttempt(progress, 9, T0, policy, middle).progress.retrying).toEqual({
      seq: 9,
      since: iso(T0),
      attempts: 1,
      next_at: iso(T0 + 5000),
    });
  });
});

describe('afterDelivered', () => {
  it('moves past the event and drops its retry, keeping the counts', () => {
    expect(
      afterDelivered(
        {
          seq: 4,
          failures: 3,
          given_up: 1,
          retrying: { seq: 9, since: iso(T0), attempts: 3, next_at: iso(T0) },
        },
        9,
      ),
    ).toEqual({ seq: 9, failures: 3, given_up: 1 });
  });
});

describe('beforeAttempt', () => {
  const retryingAt = (nextAt: number): DeliveryProgress => ({
    seq: 4,
    failures: 1,
    given_up: 0,
    retrying: { seq: 9, since: iso(T0 - 1000), attempts: 1, next_at: iso(nextAt) },
  });
  const endsAt = T0 + HOUR;

  it('attempts an event never tried, or whose retry is due', () => {
    expect(beforeAttempt({ seq: 4, failures: 0, given_up: 0 }, 9, T0, endsAt)).toEqual({
      kind: 'attempt',
    });
    expect(beforeAttempt(retryingAt(T0), 9, T0, endsAt)).toEqual({ kind: 'attempt' });
    expect(beforeAttempt(retryingAt(T0 - 5), 9, T0, endsAt)).toEqual({ kind: 'attempt' });
    // A retry recorded for another event does not hold this one back.
    expect(beforeAttempt(retryingAt(T0 + HOUR), 10, T0, endsAt)).toEqual({ kind: 'attempt' });
  });

  it('waits in the session up to a minute, and ends it for longer waits', () => {
    expect(beforeAttempt(retryingAt(T0 + MAX_SESSION_WAIT_MS), 9, T0, endsAt)).toEqual({
      kind: 'wait',
      ms: MAX_SESSION_WAIT_MS,
    });
    expect(beforeAttempt(retryingAt(T0 + MAX_SESSION_WAIT_MS + 1), 9, T0, endsAt)).toEqual({
      kind: 'end-session',
    });
  });

  it('ends the session when the retry is due after the session would end', () => {
    expect(beforeAttempt(retryingAt(T0 + 30_000), 9, T0, T0 + 29_999)).toEqual({
      kind: 'end-session',
    });
  });
});
