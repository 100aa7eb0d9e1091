import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import { AppConfig } from '../config/app-config';
import { RateLimitExceededError, RateLimiter } from './rate-limiter';

const WINDOW_MS = 60_000;

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
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (limit === 0 || !request.principal) return true;
    const response = context.switchToHttp().getResponse<Response>();
    const now = Date.now();
    const { count, resetAt } = await this.limiter.hit(request.principal.keyName, WINDOW_MS, now);
    response.setHeader('X-RateLimit-Limit', String(limit));
    response.setHeader('X-RateLimit-Remaining', String(Math.max(0, limit - count)));
    response.setHeader('X-RateLimit-Reset', String(Math.ceil(resetAt / 1000)));
    if (count > limit) {
      response.setHeader('Retry-After', String(Math.max(1, Math.ceil((resetAt - now) / 1000))));
      throw new RateLimitExceededError();
    }
    return true;
  }
}
