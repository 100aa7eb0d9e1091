import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { RateLimiter, rateLimitExceeded, setRateLimitHeaders } from './rate-limiter';

export const WINDOW_MS = 60_000;

/** What the guard reads of a request: the key that authenticated it, once the key guard ran. */
type KeyedRequest = Request & { principal?: { keyName: string } };

/**
 * Limits each API key to RATE_LIMIT_PER_MINUTE requests per minute and says where it stands on
 * every limited response. Runs after authentication (it counts per key), so routes without a
 * key (health, readiness, docs) are never limited. A guard rather than an interceptor: it has
 * nothing to do after the handler, and a guard costs no Observable chain per request.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const limit = this.config.rateLimit.perMinute;
    const request = context.switchToHttp().getRequest<KeyedRequest>();
    if (limit === 0 || !request.principal) return true;
    const response = context.switchToHttp().getResponse<Response>();
    const now = Date.now();
    const window = await this.limiter.hit(`key:${request.principal.keyName}`, WINDOW_MS, now);
    setRateLimitHeaders(response, limit, window);
    if (window.count > limit) throw rateLimitExceeded(response, window, now);
    return true;
  }
}
