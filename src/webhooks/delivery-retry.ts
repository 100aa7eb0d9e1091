import type { DeliveryProgress, RetryingDelivery } from '../workflows/webhook-contract';
import { retryDelayMs } from './webhook-message';

/**
 * A session waits for a retry itself only this long; a longer backoff ends the session and the
 * delivery workflow waits on a Temporal timer instead (no activity slot held, no hot loop).
 */
export const MAX_SESSION_WAIT_MS = 60_000;

/** How failed attempts are retried: the backoff, and how long before an event is given up. */
export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** An event is retried this long after its first failed attempt, then given up. */
  windowMs: number;
}

/** What a session does before attempting an event. */
export type BeforeAttempt =
  | { kind: 'attempt' }
  /** Wait this long in the session, then attempt. */
  | { kind: 'wait'; ms: number }
  /** End the session: the delivery workflow waits on a timer until `retrying.next_at`. */
  | { kind: 'end-session' };

/** The retry of event `seq` that `progress` holds, if it holds one. */
export const retryOf = (progress: DeliveryProgress, seq: number): RetryingDelivery | undefined =>
  progress.retrying?.seq === seq ? progress.retrying : undefined;

/**
 * Whether event `seq` can be attempted now: at once when it was never tried or its retry is
 * due, after a wait within the session when that wait is short and ends before the session
 * does, else not in this session.
 */
export function beforeAttempt(
  progress: DeliveryProgress,
  seq: number,
  now: number,
  sessionEndsAt: number,
): BeforeAttempt {
  const retrying = retryOf(progress, seq);
  if (!retrying) return { kind: 'attempt' };
  const wait = Date.parse(retrying.next_at) - now;
  if (wait <= 0) return { kind: 'attempt' };
  if (wait > MAX_SESSION_WAIT_MS || now + wait > sessionEndsAt) return { kind: 'end-session' };
  return { kind: 'wait', ms: wait };
}

/** The progress once event `seq` was delivered: done up to it, no retry pending. */
export const afterDelivered = (progress: DeliveryProgress, seq: number): DeliveryProgress => ({
  seq,
  failures: progress.failures,
  given_up: progress.given_up,
});

export interface FailedAttempt {
  progress: DeliveryProgress;
  /** Failed attempts of this event so far, this one included. */
  attempts: number;
  /** The retry window has passed: the event is given up (done) and the next one goes. */
  givenUp: boolean;
}

/**
 * The progress after a failed attempt of event `seq` at `now`: one more failure counted, and
 * either the event given up (its first failure is `windowMs` or more ago) or its next attempt
 * scheduled after the backoff.
 */
export function afterFailedAttempt(
  progress: DeliveryProgress,
  seq: number,
  now: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): FailedAttempt {
  const retrying = retryOf(progress, seq);
  const attempts = (retrying?.attempts ?? 0) + 1;
  const since = retrying ? Date.parse(retrying.since) : now;
  if (now - since >= policy.windowMs) {
    return {
      attempts,
      givenUp: true,
      progress: {
        seq,
        failures: progress.failures + 1,
        given_up: progress.given_up + 1,
      },
    };
  }
  const nextAt = now + retryDelayMs(attempts, policy.initialMs, policy.maxMs, random);
  return {
    attempts,
    givenUp: false,
    progress: {
      seq: progress.seq,
      failures: progress.failures + 1,
      given_up: progress.given_up,
      retrying: {
        seq,
        since: new Date(since).toISOString(),
        attempts,
        next_at: new Date(nextAt).toISOString(),
      },
    },
  };
}
