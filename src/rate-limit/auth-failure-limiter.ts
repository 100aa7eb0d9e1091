import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { clientAddressKey } from './client-address';
import { WINDOW_MS } from './rate-limit.guard';
import { RateLimiter, rateLimitExceeded, setRateLimitHeaders } from './rate-limiter';

/**
 * Counts failed authentications per client address (AUTH_FAILURES_PER_MINUTE, shared through
 * Redis like the per-key budget). Only failures count and only the address is limited: a
 * valid key is never refused for what others did from its address or with guesses at it.
 */
@Injectable()
export class AuthFailureLimiter {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  /** Records a failure; past the address's budget, throws the 429 to answer instead of 401. */
  async failed(request: Request, response: Response): Promise<void> {
    const limit = this.config.rateLimit.authFailuresPerMinute;
    if (limit === 0) return;
    const now = Date.now();
    const address = clientAddressKey(request.ip ?? request.socket.remoteAddress);
    const window = await this.limiter.hit(`auth-failures:${address}`, WINDOW_MS, now);
    if (window.count <= limit) return;
    setRateLimitHeaders(response, limit, window);
    throw rateLimitExceeded(response, window, now);
  }
}
