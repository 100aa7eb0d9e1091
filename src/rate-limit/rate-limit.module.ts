import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RateLimitGuard } from './rate-limit.guard';
import { MemoryRateLimiter, RateLimiter } from './rate-limiter';
import { RedisRateLimiter } from './redis-rate-limiter';

/** The limiter and its guard; AppModule installs the guard globally, after authentication. */
@Module({
  providers: [
    {
      provide: RateLimiter,
      inject: [AppConfig],
      useFactory: (config: AppConfig): Promise<RateLimiter> | RateLimiter =>
        config.rateLimit.redisUrl
          ? RedisRateLimiter.connect(config.rateLimit.redisUrl)
          : new MemoryRateLimiter(),
    },
    RateLimitGuard,
  ],
  exports: [RateLimitGuard],
})
export class RateLimitModule {}
