import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { RateLimitInterceptor } from './rate-limit.interceptor';
import { MemoryRateLimiter, RateLimiter } from './rate-limiter';
import { RedisRateLimiter } from './redis-rate-limiter';

@Module({
  providers: [
    {
      provide: RateLimiter,
      inject: [AppConfig],
      useFactory: (config: AppConfig): RateLimiter =>
        config.rateLimit.redisUrl
          ? RedisRateLimiter.connect(config.rateLimit.redisUrl)
          : new MemoryRateLimiter(),
    },
    { provide: APP_INTERCEPTOR, useClass: RateLimitInterceptor },
  ],
})
export class RateLimitModule {}
