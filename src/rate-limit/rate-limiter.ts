import type { Response } from 'express';
import { DomainError } from '../common/domain-error';

/** Where a key stands in its current window. */
export interface WindowCount {
  /** Requests so far in this window, this one included. */
  count: number;
  /** When the window ends (ms since the epoch). */
  resetAt: number;
}

/** Counts requests per key in fixed windows. */
export abstract class RateLimiter {
  abstract hit(key: string, windowMs: number, now: number): Promise<WindowCount>;
}

export class RateLimitExceededError extends DomainError {
  readonly code = 'RATE_LIMITED';
  constructor() {
    super('Rate limit exceeded');
  }
}

/** Where a budget of `limit` requests stands, in the documented X-RateLimit-* headers. */
export function setRateLimitHeaders(response: Response, limit: number, window: WindowCount): void {
  response.setHeader('X-RateLimit-Limit', String(limit));
  response.setHeader('X-RateLimit-Remaining', String(Math.max(0, limit - window.count)));
  response.setHeader('X-RateLimit-Reset', String(Math.ceil(window.resetAt / 1000)));
}

/** The 429 for a spent budget, with Retry-After set to the end of its window. */
export function rateLimitExceeded(
  response: Response,
  window: WindowCount,
  now: number,
): RateLimitExceededError {
  response.setHeader('Retry-After', String(Math.max(1, Math.ceil((window.resetAt - now) / 1000))));
  return new RateLimitExceededError();
}

/** More windows than this and the oldest go, so many distinct keys cannot exhaust memory. */
const MAX_WINDOWS = 100_000;

/** One process's counts: right for a single API instance. */
export class MemoryRateLimiter extends RateLimiter {
  private readonly windows = new Map<string, WindowCount>();

  hit(key: string, windowMs: number, now: number): Promise<WindowCount> {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (this.windows.size > 10_000) this.sweep(now);
      window = { count: 0, resetAt: now + windowMs };
      // Re-inserted, so the map stays in order of window start: the first entries are the oldest.
      this.windows.delete(key);
      this.windows.set(key, window);
    }
    window.count++;
    return Promise.resolve({ ...window });
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    for (const key of this.windows.keys()) {
      if (this.windows.size <= MAX_WINDOWS) break;
      this.windows.delete(key);
    }
  }
}
