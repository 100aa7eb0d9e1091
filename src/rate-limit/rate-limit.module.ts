import { Module } from '@nestjs/common';
import { SharedRedis } from '../redis/shared-redis';
import { RateLimitGuard } from './rate-limit.guard';
import { MemoryRateLimiter, RateLimiter } from './rate-limiter';
import { RedisRateLimiter } from './redis-rate-limiter';

/** The limiter and its guard; AppModule installs the guard globally, after authentication. */
@Module({
  providers: [
    {
      provide: RateLimiter,
      inject: [SharedRedis],
      useFactory: ({ client }: SharedRedis): RateLimiter =>
        client ? new RedisRateLimiter(client) : new MemoryRateLimiter(),
    },
    RateLimitGuard,
  ],
  exports: [RateLimitGuard],
})
export class RateLimitModule {}
