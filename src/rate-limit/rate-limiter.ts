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

/** One process's counts: right for a single API instance. */
export class MemoryRateLimiter extends RateLimiter {
  private readonly windows = new Map<string, WindowCount>();

  hit(key: string, windowMs: number, now: number): Promise<WindowCount> {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (this.windows.size > 10_000) this.sweep(now);
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return Promise.resolve({ ...window });
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
