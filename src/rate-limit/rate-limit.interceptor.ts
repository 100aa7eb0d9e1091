import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Observable, from, switchMap } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import { AppConfig } from '../config/app-config';
import { RateLimitExceededError, RateLimiter } from './rate-limiter';

const WINDOW_MS = 60_000;

/**
 * Limits each API key to RATE_LIMIT_PER_MINUTE requests per minute and says where it stands on
 * every limited response. Routes without a key (health, readiness, docs) are never limited.
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const limit = this.config.rateLimit.perMinute;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (limit === 0 || !request.principal) return next.handle();
    const response = context.switchToHttp().getResponse<Response>();
    const now = Date.now();
    return from(this.limiter.hit(request.principal.keyName, WINDOW_MS, now)).pipe(
      switchMap(({ count, resetAt }) => {
        response.setHeader('X-RateLimit-Limit', String(limit));
        response.setHeader('X-RateLimit-Remaining', String(Math.max(0, limit - count)));
        response.setHeader('X-RateLimit-Reset', String(Math.ceil(resetAt / 1000)));
        if (count > limit) {
          response.setHeader('Retry-After', String(Math.max(1, Math.ceil((resetAt - now) / 1000))));
          throw new RateLimitExceededError();
        }
        return next.handle();
      }),
    );
  }
}
