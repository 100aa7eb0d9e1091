import { Module } from '@nestjs/common';
import { SharedRedis } from '../redis/shared-redis';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { RateLimitGuard } from './rate-limit.guard';
import { MemoryRateLimiter, RateLimiter } from './rate-limiter';
import { RedisRateLimiter } from './redis-rate-limiter';

/**
 * The limiter, its guard (AppModule installs it globally, after authentication) and the count
 * of failed authentications the key guard keeps.
 */
@Module({
  providers: [
    {
      provide: RateLimiter,
      inject: [SharedRedis],
      useFactory: ({ client }: SharedRedis): RateLimiter =>
        client ? new RedisRateLimiter(client) : new MemoryRateLimiter(),
    },
    RateLimitGuard,
    AuthFailureLimiter,
  ],
  exports: [RateLimitGuard, AuthFailureLimiter],
})
export class RateLimitModule {}
